-- Insights: the tools used in the most runs (attempts) of the executions selected (execlog_trace_rollups).
SELECT arrayJoin(Tools) AS tool, uniqExact(TraceId) AS runs
FROM {database}.execlog_trace_rollups
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR AND {attempts_filter}
GROUP BY tool
ORDER BY runs DESC, tool
LIMIT 10
