-- {usage} (rows of summed usage per group and Model, insights/usage_sums.sql) with their cost
-- (facts/usage_cost_usd.sql: the stored token costs plus reported costs) and their steps with tokens but no price.
SELECT *, {fact.unpriced_steps} AS UnpricedSteps, {fact.usage_cost_usd} AS CostUsd
FROM ({usage})
