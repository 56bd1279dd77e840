-- USD of summed usage rows (per attempt and model, or per hour and model: Steps, TokenSteps, the token kinds,
-- ReportedCostUsd, ReportedWithoutTokensUsd, and TokenCostUsd — the tokens at their model's price, stored as the
-- steps arrived and re-priced when the prices change — summed over their LLM steps; PricedAs '' when the model
-- has no price). Priced: the tokens' cost plus what the runner reported; no price: NULL ("no price") when every
-- step had tokens, else what the steps without tokens reported. Cost is linear in the counts, so a sum of
-- groups' costs equals the cost of the summed groups.
multiIf(PricedAs != '', TokenCostUsd + ReportedCostUsd,
        TokenSteps < Steps, ReportedWithoutTokensUsd, NULL)
