-- Price the stored usage rows of {table} again with the prices in force (pricing.install runs it when they
-- change), by the facts llm_usage_rows.sql prices arriving spans with. For the per-attempt and per-hour sums
-- (execlog_trace_usage, execlog_usage_hourly) a row's token cost is linear in its sums, so re-pricing a partly
-- merged row gives what its spans' costs sum to. A mutation has no WITH clause, so the names the facts use
-- (Prices, PriceIndex, Price, and for single spans {span_token_kinds}) are defined as aliases in the
-- always-true WHERE.
ALTER TABLE {database}.{table} {on_cluster}
UPDATE PricedAs = {fact.stored_price_name}, TokenCostUsd = {fact.stored_token_cost_usd}
WHERE length({fact.prices} AS Prices) >= 0
  AND (({fact.price_index}) AS PriceIndex) >= 0
  AND isNotNull(Prices[PriceIndex] AS Price)
  {span_token_kinds}
