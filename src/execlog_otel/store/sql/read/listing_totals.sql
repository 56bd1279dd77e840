-- Totals above the listing for its filters (the listing's own conditions): executions,
-- failed ones, and over all their attempts the tokens and the cost (execlog_trace_costs: the
-- same rows and rule as each row's Tokens and Cost). {cost_scope}: the attempts of the matched executions
-- (read/totals_scope.sql), or, when the listing has no filter, every attempt since {cost_since}.
WITH matched AS (
    SELECT ExecutionId, Status FROM {database}.execlog_executions FINAL {where}
)
SELECT
    (SELECT count() FROM matched) AS Executions,
    (SELECT countIf(Status IN ('Failed', 'Rejected')) FROM matched) AS Failed,
    sum(c.TotalTokens) AS Tokens,
    sum(c.CostUsd) AS CostUsd,
    sum(c.UnpricedSteps) AS UnpricedSteps
FROM {database}.execlog_trace_costs AS c
WHERE {cost_scope}
