-- Totals above the listing for its filters (the listing's own conditions): executions, failed ones, and over all
-- their attempts the tokens and the cost, summed from {parts}: rows of counts and of the rollups' summed columns
-- (read/totals_parts.sql for the executions matched now; read/totals_summary_parts.sql adds the summary's). The
-- cost is the rule every listing row's is (facts/usage_cost_usd.sql over the sums of its parts, as
-- read/attempt_cost_columns.sql applies it per attempt). The rule is linear (an attempt with no step to price has
-- parts of 0), so the sum over every row is the sum of what the rows show, without grouping them per attempt.
SELECT
    sum(r.Executions) AS Executions,
    sum(r.Failed) AS Failed,
    sum(r.Tokens) AS Tokens,
    {fact.usage_cost_usd} AS CostUsd,
    sum(r.UnpricedSteps) AS UnpricedSteps
FROM ({parts}) AS r
