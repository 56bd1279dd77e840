-- The USD of a usage row's tokens at its model's price, 0 without one: stored as TokenCostUsd when the row
-- arrives and when it is priced again (facts/usage_cost_usd.sql tells "no price" from 0 by PricedAs).
if(PriceIndex > 0, {fact.token_cost_usd}, 0)
