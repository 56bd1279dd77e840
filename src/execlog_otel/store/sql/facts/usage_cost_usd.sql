-- USD of summed usage rows (per attempt and model, or per hour and model: Steps, TokenSteps, the token kinds,
-- ReportedCostUsd, ReportedWithoutTokensUsd summed over their LLM steps) at their model's price Price
-- (PriceIndex 0: none). Priced: the tokens at their rates plus what the runner reported; no price: NULL ("no
-- price") when every step had tokens, else what the steps without tokens reported. Cost is linear in the
-- counts, so a sum of groups' costs equals the cost of the summed groups.
multiIf(PriceIndex > 0, {fact.token_cost_usd} + ReportedCostUsd,
        TokenSteps < Steps, ReportedWithoutTokensUsd, NULL)
