-- Of summed usage rows (facts/usage_cost_usd.sql), the USD of the steps whose model has a price: their tokens at
-- that price and what the runner reported for them; 0 when the model has none.
if(PricedAs != '', TokenCostUsd + ReportedCostUsd, 0)
