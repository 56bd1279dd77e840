-- Price the stored LLM spans again with the prices in force (pricing.install runs it when they change), by
-- the same facts llm_usage_rows.sql prices arriving spans with. A mutation has no WITH clause, so the names
-- the facts use (Prices, PriceIndex, Price, the token kinds) are defined as aliases in the always-true WHERE.
ALTER TABLE {database}.execlog_llm_usage {on_cluster}
UPDATE PricedAs = if(PriceIndex > 0, Price.1, ''),
       TokenCostUsd = if(PriceIndex > 0, {fact.token_cost_usd}, 0)
WHERE length({fact.prices} AS Prices) >= 0
  AND (({fact.price_index}) AS PriceIndex) >= 0
  AND isNotNull(Prices[PriceIndex] AS Price)
  AND isNotNull(({fact.uncached_input_tokens}) AS UncachedInputTokens)
  AND isNotNull(({fact.visible_output_tokens}) AS VisibleOutputTokens)
