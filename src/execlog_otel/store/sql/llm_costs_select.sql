-- Cost of every LLM span. The viewer, `execlog sql`, the dashboards and docs/sql.md read the view made from
-- it, execlog_llm_costs (per span), or its per-attempt twin execlog_trace_costs (trace_costs_select.sql).
-- Each span is priced as it arrives and re-priced when the prices change (llm_usage_rows.sql: the model's
-- price name by facts/price_index.sql, the arithmetic by facts/token_cost_usd.sql), so a price change applies
-- to past executions too and reading costs no pricing.
--
-- Tokens (GenAI conventions): input tokens include cache reads and cache
-- writes, output tokens include reasoning tokens; each part is priced at its
-- own rate and never twice. A span with tokens whose model has no price costs
-- NULL ("no price"), never 0.
SELECT
    Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens,
    ReasoningTokens,
    {fact.usage_total_tokens} AS TotalTokens,
    ReportedCostUsd,
    PricedAs != '' AS Priced,
    PricedAs,
    {fact.has_tokens} AS HasTokens,
    {fact.step_unpriced} AS Unpriced,
    {fact.uncached_input_tokens} AS UncachedInputTokens,
    {fact.visible_output_tokens} AS VisibleOutputTokens,
    if(Priced, StoredTokenCostUsd, NULL) AS TokenCostUsd,
    {fact.step_cost_usd} AS CostUsd
-- The stored column is renamed: this view's TokenCostUsd is NULL without a price, and an alias would shadow it.
FROM (SELECT * EXCEPT (TokenCostUsd), TokenCostUsd AS StoredTokenCostUsd FROM {database}.execlog_llm_usage)
