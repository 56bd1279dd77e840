-- Totals above the listing for its filters (the listing's own conditions): executions,
-- failed ones, and over all their attempts the tokens and the cost: each attempt's from its rollup rows by
-- read/attempt_cost_columns.sql, as every listing row gets its own (the same rows and rule, so the totals are
-- the sum of what the rows show). {cost_scope}: the attempts of the matched executions (read/totals_scope.sql).
-- The rollups hold each attempt's cost in a few summed columns; execlog_trace_costs would price every usage row
-- of the whole range again (at 10 M spans, a status filter's totals 288 ms through it, 174 ms so).
WITH matched AS (
    SELECT ExecutionId, TraceId, Attempt, Status FROM {database}.execlog_executions FINAL {where}
),
-- Both counts, and how many were retried, in one read of the matched executions (each mention of matched reads
-- it again).
(SELECT (count(), countIf(Status IN ('Failed', 'Rejected')), countIf(Attempt > 1)) FROM matched) AS counted
SELECT
    counted.1 AS Executions,
    counted.2 AS Failed,
    sum(c.TotalTokens) AS Tokens,
    sum(c.CostUsd) AS CostUsd,
    sum(c.UnpricedSteps) AS UnpricedSteps
FROM (
    SELECT {attempt_cost_columns}
    FROM {database}.execlog_trace_rollups AS r
    WHERE {cost_scope}
    GROUP BY r.TraceId
) AS c
SETTINGS prefer_column_name_to_alias = 1
