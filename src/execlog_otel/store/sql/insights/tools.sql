-- Insights: the tools used in the most runs (attempts) of the executions selected (execlog_trace_rollups).
-- An attempt's rollup may be in several rows until their parts merge, so runs are counted distinct: by a
-- 64-bit hash of the trace id, half the time of the ids themselves at 10 M spans (a collision among a million
-- attempts has odds of about 1 in 40 million, and would miscount one run of one bar).
SELECT arrayJoin(Tools) AS tool, uniqExact(cityHash64(TraceId)) AS runs
FROM {database}.execlog_trace_rollups
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR AND {attempts_filter}
GROUP BY tool
ORDER BY runs DESC, tool
LIMIT 10
