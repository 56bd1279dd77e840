-- Per attempt (trace) and model: the token kinds and runner-reported costs of its LLM steps, summed from
-- execlog_llm_usage rows as they arrive (facts/ give each kind, as execlog_llm_costs reads them), so the
-- listing, the totals and the Insights price a few rows per attempt instead of every span.
SELECT
    TraceId, Model, min(Start) AS Start,
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
        Start, TraceId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens,
        coalesce(ReportedCostUsd, 0) AS Reported,
        {fact.uncached_input_tokens} AS UncachedInputTokens,
        {fact.visible_output_tokens} AS VisibleOutputTokens,
        {fact.usage_total_tokens} AS TotalTokens,
        {fact.has_tokens} AS HasTokens
    FROM {database}.execlog_llm_usage
)
GROUP BY TraceId, Model
