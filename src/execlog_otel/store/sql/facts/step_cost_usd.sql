-- USD of one execlog_llm_usage row (one step): its tokens at its model's price (StoredTokenCostUsd, the stored
-- TokenCostUsd column, 0 without a price) plus what the runner reported; NULL ("no price") when it counted tokens
-- of a model without a price, never 0. The per-step cost of execlog_llm_costs and of the detail's steps.
if({fact.step_unpriced}, NULL, if(PricedAs != '', StoredTokenCostUsd, 0) + coalesce(ReportedCostUsd, 0))
