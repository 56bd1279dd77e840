-- The cost columns of one attempt from its rollup rows (execlog_trace_rollups AS r: the sums
-- rollup_costs_select.sql keeps of its priced usage rows), as costs.from_row reads them: input without cache,
-- output without reasoning, each token once; and input and output as the spans state them. The cost is
-- facts/usage_cost_usd.sql — the rule every cost query applies — over the sums of its parts (Repository passes
-- them as fact.cost_steps, fact.priced_cost_usd and fact.unpriced_reported_usd). The rollups' own token columns
-- share names with these aliases, which they shadow unless the statement sets prefer_column_name_to_alias = 1.
-- A reported sum that is not finite (rows stored before migration 048 took execlog.cost.usd "inf" as it came) reads
-- as 0, not reported: JSON has no infinity (the viewer's encoder writes null where the API promises a number).
{fact.usage_cost_usd} AS CostUsd, sum(r.UnpricedSteps) AS UnpricedSteps,
ifNotFinite(sum(r.ReportedCostUsd), 0) AS ReportedCostUsd,
sum(r.UncachedInputTokens) AS InputTokens, sum(r.CacheReadTokens) AS CacheReadTokens,
sum(r.CacheWriteTokens) AS CacheWriteTokens, sum(r.VisibleOutputTokens) AS OutputTokens,
sum(r.ReasoningTokens) AS ReasoningTokens, sum(r.UsageTotalTokens) AS TotalTokens,
sum(r.UsageInputTokens) AS StatedInputTokens, sum(r.UsageOutputTokens) AS StatedOutputTokens
