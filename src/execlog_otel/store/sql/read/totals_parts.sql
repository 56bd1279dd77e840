-- The counts and summed rollup columns listing_totals.sql adds up, of the executions its filters match now
-- ({where} on execlog_executions) over every attempt: the rollup rows of {cost_scope} (read/totals_scope.sql).
-- execlog_trace_costs would price every usage row of the whole range again (at 10 M spans, a status filter's
-- totals 288 ms through it, 174 ms so). Every column is Int64 or Float64, as the summary's (a UNION of UInt64 and
-- Int64 has no common type).
WITH matched AS (
    SELECT ExecutionId, TraceHash, Attempt, Status FROM {database}.execlog_executions FINAL {where}
),
-- Both counts, and how many were retried, in one read of the matched executions (each mention of matched reads
-- it again).
(SELECT (count(), countIf({fact.failed_execution}), countIf(Attempt > 1)) FROM matched) AS counted
SELECT
    toInt64(counted.1) AS Executions,
    toInt64(counted.2) AS Failed,
    toInt64(sum(r.UsageTotalTokens)) AS Tokens,
    toInt64(sum(r.CostSteps)) AS CostSteps,
    sum(r.PricedCostUsd) AS PricedCostUsd,
    sum(r.UnpricedReportedUsd) AS UnpricedReportedUsd,
    toInt64(sum(r.UnpricedSteps)) AS UnpricedSteps
FROM {database}.execlog_trace_rollups AS r
WHERE {cost_scope}
