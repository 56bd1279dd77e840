-- Of summed usage rows (facts/usage_cost_usd.sql), the steps that give a cost: every step of a model with a price,
-- and the steps without tokens of one without (a step with tokens and no price has none: "no price").
toInt64(if(PricedAs != '', Steps, Steps - TokenSteps))
