-- Totals above the listing for its filters (the listing's own conditions): executions,
-- failed ones, and over all their attempts the tokens and the cost: the rollup rows of those attempts summed,
-- the cost by the rule every listing row's is (facts/usage_cost_usd.sql over the sums of its parts, as
-- read/attempt_cost_columns.sql applies it per attempt). The rule is linear (an attempt with no step to price
-- has parts of 0), so the sum over every row is the sum of what the rows show, without grouping the rows per
-- attempt first (at 10 M spans, 100,000 failed executions' attempts). {cost_scope}: the attempts of the
-- matched executions (read/totals_scope.sql). The rollups hold each attempt's cost in a few summed columns;
-- execlog_trace_costs would price every usage row of the whole range again (at 10 M spans, a status filter's
-- totals 288 ms through it, 174 ms so).
WITH matched AS (
    SELECT ExecutionId, TraceHash, Attempt, Status FROM {database}.execlog_executions FINAL {where}
),
-- Both counts, and how many were retried, in one read of the matched executions (each mention of matched reads
-- it again).
(SELECT (count(), countIf(Status IN ('Failed', 'Rejected')), countIf(Attempt > 1)) FROM matched) AS counted
SELECT
    counted.1 AS Executions,
    counted.2 AS Failed,
    sum(r.UsageTotalTokens) AS Tokens,
    {fact.usage_cost_usd} AS CostUsd,
    sum(r.UnpricedSteps) AS UnpricedSteps
FROM {database}.execlog_trace_rollups AS r
WHERE {cost_scope}
