-- Insights: tokens and cost (USD) per interval and agent or automation of the attempts selected: their usage
-- (execlog_trace_usage) summed per interval, agent or automation and model, priced (insights/priced_usage.sql),
-- then summed over the models.
SELECT bucket, kind, name, sum(TotalTokens) AS tokens, round(sum(CostUsd), 6) AS cost_usd,
       sum(UnpricedSteps) AS unpriced_steps
FROM ({priced_usage})
GROUP BY bucket, kind, name
ORDER BY bucket, kind, name
