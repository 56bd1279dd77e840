-- The project of each given execution the caller may see ({scope}: the caller's projects). Every row of an
-- execution carries the same project, so no FINAL.
SELECT ExecutionId, any(Project) AS ExecutionProject
FROM {database}.execlog_executions
WHERE ExecutionId IN {ids:Array(String)} {scope}
GROUP BY ExecutionId
