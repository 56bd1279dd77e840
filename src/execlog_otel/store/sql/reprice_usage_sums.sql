-- Price the stored usage sums of {table} (execlog_trace_usage, execlog_usage_hourly: per attempt or hour and
-- model) again with the prices in force (pricing.install runs it when they change), by the same facts
-- llm_usage_rows.sql prices arriving spans with; a row's token costs are linear in its sums, so re-pricing a
-- partly merged row gives what its spans' costs sum to. A mutation has no WITH clause, so the names the facts
-- use (Prices, PriceIndex, Price) are defined as aliases in the always-true WHERE.
ALTER TABLE {database}.{table} {on_cluster}
UPDATE PricedAs = if(PriceIndex > 0, Price.1, ''),
       TokenCostUsd = if(PriceIndex > 0, {fact.token_cost_usd}, 0)
WHERE length({fact.prices} AS Prices) >= 0
  AND (({fact.price_index}) AS PriceIndex) >= 0
  AND isNotNull(Prices[PriceIndex] AS Price)
