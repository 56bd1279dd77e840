-- Cost and tokens of every attempt (trace) per model, computed when read from execlog_trace_usage with the
-- prices in force: execlog_llm_costs summed per trace and model, from the same facts (see
-- llm_costs_select.sql). A model without a price leaves its steps with tokens "no price" (UnpricedSteps)
-- and the group's cost NULL when every step in it had tokens; runner-reported costs of steps without
-- tokens always count.
WITH {fact.prices} AS Prices
SELECT
    u.TraceId AS TraceId,
    u.Model AS Model,
    u.Start AS Start,
    u.Steps AS Steps,
    u.InputTokens AS InputTokens,
    u.OutputTokens AS OutputTokens,
    u.UncachedInputTokens AS UncachedInputTokens,
    u.CacheReadTokens AS CacheReadTokens,
    u.CacheWriteTokens AS CacheWriteTokens,
    u.VisibleOutputTokens AS VisibleOutputTokens,
    u.ReasoningTokens AS ReasoningTokens,
    u.TotalTokens AS TotalTokens,
    u.ReportedCostUsd AS ReportedCostUsd,
    u.PriceIndex > 0 AS Priced,
    if(Priced, u.Price.1, '') AS PricedAs,
    toUInt64(if(Priced, 0, u.TokenSteps)) AS UnpricedSteps,
    {fact.usage_cost_usd} AS CostUsd
FROM (
    -- Each level is computed once: the price name per (trace, model), then its row of Prices.
    SELECT *, Prices[PriceIndex] AS Price FROM (
        SELECT *, {fact.price_index} AS PriceIndex FROM (
            SELECT
                TraceId, Model, min(Start) AS Start, sum(Steps) AS Steps, sum(TokenSteps) AS TokenSteps,
                sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
                sum(UncachedInputTokens) AS UncachedInputTokens, sum(CacheReadTokens) AS CacheReadTokens,
                sum(CacheWriteTokens) AS CacheWriteTokens, sum(VisibleOutputTokens) AS VisibleOutputTokens,
                sum(ReasoningTokens) AS ReasoningTokens, sum(TotalTokens) AS TotalTokens,
                sum(ReportedCostUsd) AS ReportedCostUsd, sum(ReportedWithoutTokensUsd) AS ReportedWithoutTokensUsd
            FROM {database}.execlog_trace_usage
            GROUP BY TraceId, Model)))
AS u
