-- Insights: tokens and cost (USD) per interval and agent or automation of the attempts selected: their LLM usage
-- per interval, kind, name and model (insights/named_usage.sql), priced per model (insights/priced_usage.sql:
-- the cost is additive, so summing the priced groups equals pricing the sums), then summed per name.
SELECT bucket, Kind AS kind, Name AS name, sum(TotalTokens) AS tokens, round(sum(CostUsd), 6) AS cost_usd,
       sum(UnpricedSteps) AS unpriced_steps
FROM ({priced_usage})
GROUP BY bucket, kind, name
ORDER BY bucket, kind, name
