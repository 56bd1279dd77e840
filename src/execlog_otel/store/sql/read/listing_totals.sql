-- Totals above the listing for its filters (the listing's own conditions): executions,
-- failed ones, and over all their attempts the tokens and the cost (execlog_trace_costs: the
-- same rows and rule as each row's Tokens and Cost). {cost_scope}: the attempts of the matched executions
-- (read/totals_scope.sql), or, when the listing has no filter, every attempt since {cost_since}.
WITH matched AS (
    SELECT ExecutionId, TraceId, Attempt, Status FROM {database}.execlog_executions FINAL {where}
),
-- Both counts in one read of the matched executions (each mention of matched reads it again).
(SELECT (count(), countIf(Status IN ('Failed', 'Rejected'))) FROM matched) AS counted
SELECT
    counted.1 AS Executions,
    counted.2 AS Failed,
    sum(c.TotalTokens) AS Tokens,
    sum(c.CostUsd) AS CostUsd,
    sum(c.UnpricedSteps) AS UnpricedSteps
FROM {database}.execlog_trace_costs AS c
WHERE {cost_scope}
