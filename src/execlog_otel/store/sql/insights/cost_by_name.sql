-- Insights: tokens and cost (USD) per interval and agent or automation of the attempts selected. Each attempt's
-- stored usage rows (execlog_trace_usage, per model as parts merge) are priced one by one and summed per attempt:
-- the cost is additive (facts/usage_cost_usd.sql, as execlog_trace_costs reads it), so no per-model grouping is
-- needed first; an attempt counts in the interval of its first LLM step and is matched to its agent or
-- automation (execlog_attempts) by one row per attempt on each side, the smallest join this chart can make.
SELECT formatDateTime(toStartOfInterval(toDateTime(c.FirstStart, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, a.Kind AS kind, a.Name AS name,
       sum(c.Tokens) AS tokens, round(sum(c.Cost), 6) AS cost_usd, sum(c.Unpriced) AS unpriced_steps
FROM (
    SELECT TraceId, min(Start) AS FirstStart, sum(TotalTokens) AS Tokens, sum({fact.usage_cost_usd}) AS Cost,
           sum({fact.unpriced_steps}) AS Unpriced
    FROM {database}.execlog_trace_usage
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR
      AND Start <= fromUnixTimestamp64Nano({to_ns:Int64}) AND {attempts_filter}
    GROUP BY TraceId
    HAVING FirstStart >= fromUnixTimestamp64Nano({from_ns:Int64})
) AS c
INNER ANY JOIN (
    SELECT TraceId, any(Kind) AS Kind, any(Name) AS Name FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
    GROUP BY TraceId
) AS a ON c.TraceId = a.TraceId
GROUP BY bucket, kind, name
ORDER BY bucket, kind, name
