-- One execution in its newest state.
SELECT {execution_columns}
FROM {database}.execlog_executions FINAL
WHERE ExecutionId = {id:String} {scope}
ORDER BY Version DESC
LIMIT 1
