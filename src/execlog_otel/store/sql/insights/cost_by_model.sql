-- Insights: tokens and cost (USD, execlog_trace_costs) per interval and model.
SELECT formatDateTime(toStartOfInterval(toDateTime(Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Model AS model,
       sum(TotalTokens) AS tokens, round(sum(CostUsd), 6) AS cost_usd, sum(UnpricedSteps) AS unpriced_steps
FROM {database}.execlog_trace_costs
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Model != '' AND {attempts_filter}
GROUP BY bucket, model
ORDER BY bucket, model
