-- {usage} (rows of summed usage per group and Model, insights/usage_sums.sql) priced with the prices in force:
-- each group's model matched once (facts/price_index.sql), then its cost (facts/usage_cost_usd.sql) and its
-- steps with tokens but no price. Pricing the groups, not each attempt, keeps the price matching to a few rows.
WITH {fact.prices} AS Prices
SELECT *, toUInt64(if(PriceIndex > 0, 0, TokenSteps)) AS UnpricedSteps, {fact.usage_cost_usd} AS CostUsd
FROM (
    SELECT *, Prices[PriceIndex] AS Price FROM (
        SELECT *, {fact.price_index} AS PriceIndex FROM ({usage})))
