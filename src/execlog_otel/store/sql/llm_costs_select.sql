-- Cost of every LLM span, computed when read (so a price change applies to past
-- executions too). The viewer, `execlog sql`, the dashboards and docs/sql.md
-- read the view made from it, execlog_llm_costs (per span), or its per-attempt
-- twin execlog_trace_costs (trace_costs_select.sql); both take the model's price
-- name (facts/prices, price_index), the token kinds (facts/uncached_input_tokens,
-- visible_output_tokens, usage_total_tokens) and the arithmetic
-- (facts/token_cost_usd) from the same facts, so they always agree.
--
-- Tokens (GenAI conventions): input tokens include cache reads and cache
-- writes, output tokens include reasoning tokens; each part is priced at its
-- own rate and never twice. A span with tokens whose model has no price costs
-- NULL ("no price"), never 0.
WITH {fact.prices} AS Prices
SELECT
    u.Start AS Start,
    u.TraceId AS TraceId,
    u.SpanId AS SpanId,
    u.Model AS Model,
    u.InputTokens AS InputTokens,
    u.OutputTokens AS OutputTokens,
    u.CacheReadTokens AS CacheReadTokens,
    u.CacheWriteTokens AS CacheWriteTokens,
    u.ReasoningTokens AS ReasoningTokens,
    u.TotalTokens AS TotalTokens,
    u.ReportedCostUsd AS ReportedCostUsd,
    u.PriceIndex > 0 AS Priced,
    if(Priced, u.Price.1, '') AS PricedAs,
    u.HasTokens AS HasTokens,
    HasTokens AND NOT Priced AS Unpriced,
    u.UncachedInputTokens AS UncachedInputTokens,
    u.VisibleOutputTokens AS VisibleOutputTokens,
    if(Priced, {fact.token_cost_usd}, NULL) AS TokenCostUsd,
    if(Unpriced, NULL, coalesce(TokenCostUsd, 0) + coalesce(u.ReportedCostUsd, 0)) AS CostUsd
FROM (
    -- Each level is computed once: the token kinds and price name per span, then its row of Prices.
    SELECT *, Prices[PriceIndex] AS Price FROM (
        SELECT
            *,
            {fact.uncached_input_tokens} AS UncachedInputTokens,
            {fact.visible_output_tokens} AS VisibleOutputTokens,
            {fact.usage_total_tokens} AS TotalTokens,
            {fact.has_tokens} AS HasTokens,
            {fact.price_index} AS PriceIndex
        FROM {database}.execlog_llm_usage))
AS u
