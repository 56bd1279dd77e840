-- The cost columns of one attempt summed from execlog_trace_costs AS c (rows per model), as costs.from_row
-- reads them: input without cache, output without reasoning, each token once; and input and output as the
-- spans state them.
sum(c.CostUsd) AS CostUsd, sum(c.UnpricedSteps) AS UnpricedSteps, sum(c.ReportedCostUsd) AS ReportedCostUsd,
sum(c.UncachedInputTokens) AS InputTokens, sum(c.CacheReadTokens) AS CacheReadTokens,
sum(c.CacheWriteTokens) AS CacheWriteTokens, sum(c.VisibleOutputTokens) AS OutputTokens,
sum(c.ReasoningTokens) AS ReasoningTokens, sum(c.TotalTokens) AS TotalTokens,
sum(c.InputTokens) AS StatedInputTokens, sum(c.OutputTokens) AS StatedOutputTokens
