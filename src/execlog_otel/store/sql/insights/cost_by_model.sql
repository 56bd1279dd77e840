-- Insights: tokens and cost (USD) per interval and model of the attempts selected, from their usage per attempt
-- (execlog_trace_usage), summed per interval and model, then priced (insights/priced_usage.sql).
SELECT bucket, Model AS model, TotalTokens AS tokens, round(CostUsd, 6) AS cost_usd,
       UnpricedSteps AS unpriced_steps
FROM ({priced_usage})
ORDER BY bucket, model
