-- The days (UTC) the executions of the traces {traces:Array(String)} started: the execution whose latest (or
-- running) attempt the trace is, and the one an earlier attempt's root names (execlog_attempts, by key).
SELECT DISTINCT toDate(Start, 'UTC') FROM {database}.execlog_executions
WHERE TraceHash IN (SELECT cityHash64(arrayJoin({traces:Array(String)})))
   OR ExecutionId IN (SELECT ExecutionId FROM {database}.execlog_attempts WHERE TraceId IN {traces:Array(String)})
