-- Usage per attempt (trace) and model of the attempts selected (execlog_trace_usage, summed per trace and model;
-- FirstStart: its first LLM step), read from the range (an hour of slack for attempts started just before).
SELECT TraceId, Model, min(Start) AS FirstStart, {usage_sums}
FROM {database}.execlog_trace_usage
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR
  AND Start <= fromUnixTimestamp64Nano({to_ns:Int64}) AND {attempts_filter}
GROUP BY TraceId, Model
HAVING FirstStart >= fromUnixTimestamp64Nano({from_ns:Int64})
