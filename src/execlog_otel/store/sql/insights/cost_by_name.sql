-- Insights: tokens and cost (USD) per interval and agent or automation of the attempts selected. Each attempt's
-- stored usage rows (execlog_trace_usage, per model as parts merge) are priced one by one and summed per attempt:
-- the cost is additive (facts/usage_cost_usd.sql, as execlog_trace_costs reads it), so no per-model grouping is
-- needed first; an attempt counts in the interval of its first LLM step. The join to its agent or automation
-- (execlog_attempts, whose rows of one trace repeat the same values: ANY takes one) is also what selects the
-- attempts (insights/attempts_conditions.sql), so the usage is read for the range alone, not matched to a set
-- of attempts first; both sides are keyed by a 64-bit hash of the trace id (collision odds as in
-- insights/attempts_filter.sql). At 10 M spans, 30 days, in-process, alternated: 521 -> 462 ms for every
-- execution, 616 -> 409 ms for one kind.
SELECT formatDateTime(toStartOfInterval(toDateTime(c.FirstStart, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, a.Kind AS kind, a.Name AS name,
       sum(c.Tokens) AS tokens, round(sum(c.Cost), 6) AS cost_usd, sum(c.Unpriced) AS unpriced_steps
FROM (
    SELECT cityHash64(TraceId) AS Trace, min(Start) AS FirstStart, sum(TotalTokens) AS Tokens,
           sum({fact.usage_cost_usd}) AS Cost, sum({fact.unpriced_steps}) AS Unpriced
    FROM {database}.execlog_trace_usage
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) - INTERVAL 1 HOUR
      AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
    GROUP BY Trace
    HAVING FirstStart >= fromUnixTimestamp64Nano({from_ns:Int64})
) AS c
INNER ANY JOIN (
    SELECT cityHash64(TraceId) AS Trace, Kind, Name FROM {database}.execlog_attempts
    WHERE {attempts_conditions}
) AS a ON c.Trace = a.Trace
GROUP BY bucket, kind, name
ORDER BY bucket, kind, name
