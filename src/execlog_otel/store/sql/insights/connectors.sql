-- Insights: the connectors used in the most runs (attempts) of the executions selected (execlog_trace_rollups).
SELECT arrayJoin(Connectors) AS connector, uniqExact(TraceId) AS runs
FROM {database}.execlog_trace_rollups
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR AND {attempts_filter}
GROUP BY connector
ORDER BY runs DESC, connector
LIMIT 10
