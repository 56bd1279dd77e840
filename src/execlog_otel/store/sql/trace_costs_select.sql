-- Cost and tokens of every attempt (trace) per model, from execlog_trace_usage: its LLM steps' token kinds,
-- reported costs and token costs (priced as the steps arrived, re-priced when the prices change: see
-- llm_usage_rows.sql), as stored — rows of one attempt and model are summed as parts merge, so a reader sums
-- them (GROUP BY TraceId or TraceId, Model); every column is additive, the cost too: it is linear in the
-- counts (facts/usage_cost_usd.sql), so the sum of the rows' costs is the cost of their sum, and reading the
-- rows as stored spares every listing page a second aggregation. A model without a price leaves its steps
-- with tokens "no price" (UnpricedSteps) and the cost NULL when every step had tokens; runner-reported costs
-- of steps without tokens always count.
SELECT
    TraceId, Model, Start, Steps, InputTokens, OutputTokens, UncachedInputTokens, CacheReadTokens,
    CacheWriteTokens, VisibleOutputTokens, ReasoningTokens, TotalTokens, ReportedCostUsd,
    PricedAs != '' AS Priced,
    PricedAs,
    {fact.unpriced_steps} AS UnpricedSteps,
    {fact.usage_cost_usd} AS CostUsd
FROM {database}.execlog_trace_usage
