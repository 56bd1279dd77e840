-- The sums of one group of LLM steps' usage (the columns facts/step_usage_columns.sql gives each step): steps, steps
-- with tokens, each token kind, runner-reported costs, the tokens' USD and the price-table name of the group's model
-- (the same for every step of one model) — one rule for the per-attempt and the per-hour totals.
count() AS Steps,
countIf(HasTokens) AS TokenSteps,
sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
sum(UncachedInputTokens) AS UncachedInputTokens, sum(CacheReadTokens) AS CacheReadTokens,
sum(CacheWriteTokens) AS CacheWriteTokens, sum(VisibleOutputTokens) AS VisibleOutputTokens,
sum(ReasoningTokens) AS ReasoningTokens, sum(TotalTokens) AS TotalTokens,
sum(Reported) AS ReportedCostUsd,
sumIf(Reported, NOT HasTokens) AS ReportedWithoutTokensUsd,
anyLast(PricedAs) AS PricedAs, sum(TokenCostUsd) AS TokenCostUsd
