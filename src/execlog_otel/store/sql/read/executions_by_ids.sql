-- Given executions in their newest state (the listing polls its live rows with it).
SELECT {execution_columns}
FROM {database}.execlog_executions FINAL
WHERE ExecutionId IN {ids:Array(String)} {scope}
