-- Of summed usage rows (facts/usage_cost_usd.sql), the LLM steps with tokens whose model has no price
-- ("no price" in the viewer, never 0).
toUInt64(if(PricedAs != '', 0, TokenSteps))
