-- Each LLM step's usage columns that facts/step_usage_sums.sql sums (from a priced execlog_llm_usage row).
InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens,
coalesce(ReportedCostUsd, 0) AS Reported,
{fact.uncached_input_tokens} AS UncachedInputTokens,
{fact.visible_output_tokens} AS VisibleOutputTokens,
{fact.usage_total_tokens} AS TotalTokens,
{fact.has_tokens} AS HasTokens,
PricedAs, TokenCostUsd
