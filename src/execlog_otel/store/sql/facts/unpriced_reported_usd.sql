-- Of summed usage rows (facts/usage_cost_usd.sql), what the runner reported for the steps without tokens of a
-- model without a price (their only cost); 0 when the model has a price (its steps are priced_cost_usd).
if(PricedAs != '', 0, ReportedWithoutTokensUsd)
