-- The sums of usage rows (execlog_trace_usage, execlog_usage_hourly) that facts/usage_cost_usd.sql prices.
sum(Steps) AS Steps, sum(TokenSteps) AS TokenSteps, sum(InputTokens) AS InputTokens,
sum(OutputTokens) AS OutputTokens, sum(UncachedInputTokens) AS UncachedInputTokens,
sum(CacheReadTokens) AS CacheReadTokens, sum(CacheWriteTokens) AS CacheWriteTokens,
sum(VisibleOutputTokens) AS VisibleOutputTokens, sum(ReasoningTokens) AS ReasoningTokens,
sum(TotalTokens) AS TotalTokens, sum(ReportedCostUsd) AS ReportedCostUsd,
sum(ReportedWithoutTokensUsd) AS ReportedWithoutTokensUsd,
anyLast(PricedAs) AS PricedAs, sum(TokenCostUsd) AS TokenCostUsd
