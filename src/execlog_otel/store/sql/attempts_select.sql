-- Trace id of every attempt (and live-state marker) -> its execution, name,
-- kind, service and project, by the same rules as execlog_executions (executions_select): what joins
-- per-span facts such as costs to the execution and to its agent or automation.
SELECT TraceId, ExecutionId, AttemptStart AS Start, Attempt, Name, Kind, ServiceName, Project
FROM ({executions_select})
