-- Cost and tokens of every attempt (trace) per model, from execlog_trace_usage: its LLM steps' token kinds,
-- reported costs and token costs (priced as the steps arrived, re-priced when the prices change: see
-- llm_usage_rows.sql), summed. A model without a price leaves its steps with tokens "no price" (UnpricedSteps)
-- and the group's cost NULL when every step in it had tokens; runner-reported costs of steps without tokens
-- always count (facts/usage_cost_usd.sql).
SELECT
    TraceId, Model, Start, Steps, InputTokens, OutputTokens, UncachedInputTokens, CacheReadTokens,
    CacheWriteTokens, VisibleOutputTokens, ReasoningTokens, TotalTokens, ReportedCostUsd,
    PricedAs != '' AS Priced,
    PricedAs,
    toUInt64(if(Priced, 0, TokenSteps)) AS UnpricedSteps,
    {fact.usage_cost_usd} AS CostUsd
FROM (
    SELECT
        TraceId, Model, min(Start) AS Start, sum(Steps) AS Steps, sum(TokenSteps) AS TokenSteps,
        sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
        sum(UncachedInputTokens) AS UncachedInputTokens, sum(CacheReadTokens) AS CacheReadTokens,
        sum(CacheWriteTokens) AS CacheWriteTokens, sum(VisibleOutputTokens) AS VisibleOutputTokens,
        sum(ReasoningTokens) AS ReasoningTokens, sum(TotalTokens) AS TotalTokens,
        sum(ReportedCostUsd) AS ReportedCostUsd, sum(ReportedWithoutTokensUsd) AS ReportedWithoutTokensUsd,
        anyLast(PricedAs) AS PricedAs, sum(TokenCostUsd) AS TokenCostUsd
    FROM {database}.execlog_trace_usage
    GROUP BY TraceId, Model)
