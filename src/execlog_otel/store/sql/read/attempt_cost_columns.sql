-- The cost columns of one attempt summed from its stored usage rows (execlog_trace_usage AS c, rows per model),
-- as costs.from_row reads them: input without cache, output without reasoning, each token once; and input and
-- output as the spans state them. The cost and "no price" rules are the facts execlog_trace_costs applies
-- (facts/usage_cost_usd.sql, unpriced_steps.sql) — read here from the table itself, since going through the
-- view costs every listing page a few ms of query analysis. The facts name the table's columns, which these
-- aliases shadow unless the statement sets prefer_column_name_to_alias = 1.
sum({fact.usage_cost_usd}) AS CostUsd, sum({fact.unpriced_steps}) AS UnpricedSteps,
sum(c.ReportedCostUsd) AS ReportedCostUsd,
sum(c.UncachedInputTokens) AS InputTokens, sum(c.CacheReadTokens) AS CacheReadTokens,
sum(c.CacheWriteTokens) AS CacheWriteTokens, sum(c.VisibleOutputTokens) AS OutputTokens,
sum(c.ReasoningTokens) AS ReasoningTokens, sum(c.TotalTokens) AS TotalTokens,
sum(c.InputTokens) AS StatedInputTokens, sum(c.OutputTokens) AS StatedOutputTokens
