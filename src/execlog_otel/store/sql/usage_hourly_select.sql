-- Per hour, project and model: the token kinds and runner-reported costs of the LLM steps that started in it
-- (llm_usage_rows.sql, summed with the facts trace_usage_select sums per attempt), so the Insights cost charts
-- and the unfiltered listing's totals read a few rows per hour instead of a row per attempt; they price them
-- when read (facts/usage_cost_usd.sql), so a price change still reaches the past.
SELECT
    toStartOfHour(Start) AS Hour, Project, Model,
    count() AS Steps,
    countIf(HasTokens) AS TokenSteps,
    sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
    sum(UncachedInputTokens) AS UncachedInputTokens, sum(CacheReadTokens) AS CacheReadTokens,
    sum(CacheWriteTokens) AS CacheWriteTokens, sum(VisibleOutputTokens) AS VisibleOutputTokens,
    sum(ReasoningTokens) AS ReasoningTokens, sum(TotalTokens) AS TotalTokens,
    sum(Reported) AS ReportedCostUsd,
    sumIf(Reported, NOT HasTokens) AS ReportedWithoutTokensUsd
FROM (
    SELECT
        Start, Project, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens,
        coalesce(ReportedCostUsd, 0) AS Reported,
        {fact.uncached_input_tokens} AS UncachedInputTokens,
        {fact.visible_output_tokens} AS VisibleOutputTokens,
        {fact.usage_total_tokens} AS TotalTokens,
        {fact.has_tokens} AS HasTokens
    FROM ({llm_usage_rows})
)
GROUP BY Hour, Project, Model
