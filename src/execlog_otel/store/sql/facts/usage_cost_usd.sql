-- USD of summed usage rows (per attempt and model, or per hour and model: Steps, TokenSteps, the token kinds,
-- ReportedCostUsd, ReportedWithoutTokensUsd, and TokenCostUsd — the tokens at their model's price, stored as the
-- steps arrived and re-priced when the prices change — summed over their LLM steps; PricedAs '' when the model
-- has no price). Priced: the tokens' cost plus what the runner reported; no price: what the steps without
-- tokens reported, and NULL ("no price") when every step had tokens. Cost is linear in the counts, so a sum of
-- groups' costs equals the cost of the summed groups. The three parts are facts of their own so that a table
-- holding their sums (execlog_trace_rollups: rollup_costs_select.sql) applies this rule to them: a reader
-- passes fact.cost_steps, fact.priced_cost_usd and fact.unpriced_reported_usd as those sums.
if({fact.cost_steps} > 0, {fact.priced_cost_usd} + {fact.unpriced_reported_usd}, NULL)
