-- Totals above the listing when its filters select every execution (of the projects the caller may see:
-- {where}): executions and failed ones from execlog_executions; tokens and cost from the hourly totals
-- (execlog_usage_hourly: every LLM step, by the project of its span), summed per model and priced
-- (insights/priced_usage.sql) - a few thousand rows instead of a row per attempt. A filter on anything else
-- (time, kind, name, status, service, search, cost) reads the attempts of the executions matched
-- (listing_totals.sql): an execution's kind, name and status are known from its root span only, so the
-- hourly totals, filled as each step arrives, cannot be split by them.
WITH matched AS (
    SELECT ExecutionId, TraceId, Attempt, Status FROM {database}.execlog_executions FINAL {where}
),
-- Both counts in one read of the matched executions (each mention of matched reads it again).
(SELECT (count(), countIf({fact.failed_execution})) FROM matched) AS counted
SELECT
    counted.1 AS Executions,
    counted.2 AS Failed,
    sum(TotalTokens) AS Tokens,
    sum(CostUsd) AS CostUsd,
    sum(UnpricedSteps) AS UnpricedSteps
FROM ({priced_usage})
