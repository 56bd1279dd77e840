-- One row per span that used a model or reported a cost: its model and token counts by kind, as the
-- span states them (the facts of the same names, which rollups and steps read too), the span's project,
-- and its price: the price-table name its model matched (PricedAs, '' for none) and the USD of its tokens at
-- that price (TokenCostUsd, 0 without one), priced as the span arrives with the prices in force (the rule:
-- facts/stored_price_name.sql, facts/stored_token_cost_usd.sql). When the prices change, pricing.install
-- re-prices the stored rows with the same facts (reprice.sql), so a new price reaches
-- past executions too while reads sum stored numbers instead of pricing every row on every query.
-- Aggregate agent/workflow spans of other instrumentations are left out, as in rollups_select, so nothing
-- counts twice. A reported cost counts when it is a finite amount from 0 to 10^9 USD (facts/reported_cost_usd.sql).
-- Read by llm_usage_select (per span) and usage_hourly_select (per hour and model).
WITH {fact.prices} AS Prices
SELECT Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens,
       ReasoningTokens, ReportedCostUsd, Project,
       {fact.stored_price_name} AS PricedAs,
       {fact.stored_token_cost_usd} AS TokenCostUsd
FROM (
    -- Each level is computed once: the token kinds and price name per span, then its row of Prices.
    SELECT *, Prices[PriceIndex] AS Price FROM (
        SELECT *,
               {fact.uncached_input_tokens} AS UncachedInputTokens,
               {fact.visible_output_tokens} AS VisibleOutputTokens,
               {fact.price_index} AS PriceIndex
        FROM (
            SELECT Timestamp AS Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens,
                   CacheWriteTokens, ReasoningTokens, ReportedCostUsd, Project
            FROM (
                SELECT
                    Timestamp, TraceId, SpanId,
                    {fact.is_aggregate} AS IsAggregate,
                    {fact.step_model} AS Model,
                    if(IsAggregate, 0, {fact.input_tokens}) AS InputTokens,
                    if(IsAggregate, 0, {fact.output_tokens}) AS OutputTokens,
                    if(IsAggregate, 0, {fact.cache_read_tokens}) AS CacheReadTokens,
                    if(IsAggregate, 0, {fact.cache_write_tokens}) AS CacheWriteTokens,
                    if(IsAggregate, 0, {fact.reasoning_tokens}) AS ReasoningTokens,
                    {fact.reported_cost_usd} AS ReportedCostUsd,
                    {fact.project} AS Project
                FROM {database}.otel_traces
                WHERE SpanAttributes[{attr.MARKER}] = ''
            )
            WHERE Model != '' OR InputTokens + OutputTokens + CacheReadTokens + CacheWriteTokens
                                 + ReasoningTokens > 0
               OR ReportedCostUsd IS NOT NULL)))
