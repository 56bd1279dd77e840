-- Cost and tokens of every attempt of the given executions (an execution's cost is their sum), from
-- execlog_trace_costs, read by key (TraceId) through the attempts of the executions.
SELECT a.ExecutionId AS ExecutionId, c.TraceId AS TraceId, {attempt_cost_columns}
FROM {database}.execlog_trace_costs AS c
INNER JOIN (
    SELECT DISTINCT TraceId, ExecutionId FROM {database}.execlog_attempts
    WHERE ExecutionId IN {ids:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
) AS a ON c.TraceId = a.TraceId
WHERE c.Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR AND c.TraceId IN (
    SELECT TraceId FROM {database}.execlog_attempts
    WHERE ExecutionId IN {ids:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR)
GROUP BY ExecutionId, TraceId
