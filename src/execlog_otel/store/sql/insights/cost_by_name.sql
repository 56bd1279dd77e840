-- Insights: tokens and cost (USD, execlog_trace_costs) per interval and agent or automation.
SELECT formatDateTime(toStartOfInterval(toDateTime(c.Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, a.Kind AS kind, a.Name AS name,
       sum(c.TotalTokens) AS tokens, round(sum(c.CostUsd), 6) AS cost_usd,
       sum(c.UnpricedSteps) AS unpriced_steps
FROM {database}.execlog_trace_costs AS c
INNER JOIN (
    SELECT DISTINCT TraceId, Kind, Name FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
) AS a ON c.TraceId = a.TraceId
WHERE c.Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {attempts_filter}
GROUP BY bucket, kind, name
ORDER BY bucket, kind, name
