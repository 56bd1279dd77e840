-- The usage cost_by_name.sql prices: the attempts' usage summed per interval (of its first LLM step), the
-- agent or automation it is an attempt of (execlog_attempts) and model.
SELECT formatDateTime(toStartOfInterval(toDateTime(c.FirstStart, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, a.Kind AS kind, a.Name AS name, c.Model AS Model,
       {usage_sums}
FROM ({trace_usage_in_range}) AS c
INNER JOIN (
    SELECT DISTINCT TraceId, Kind, Name FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
) AS a ON c.TraceId = a.TraceId
GROUP BY bucket, kind, name, Model
