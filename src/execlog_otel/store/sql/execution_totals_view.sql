-- Recomputes execlog_execution_totals every hour, replacing it whole (as step_days_view.sql does): per day of the
-- executions' start (UTC) and the values the listing filters by, their count, the failed ones and, over every
-- attempt (each execution's latest trace and, when retried, the traces execlog_attempts holds for it), the sums of
-- their rollups - what read/totals_parts.sql adds up for the executions it matches. Made from what is stored when it
-- runs; Through, a minute before, is what readers compare each row's Inserted with (a row stored while it ran may
-- be in a part it did not see). 0.7-1.1 s at 10 M spans. Store.price_stored_costs runs it again when the prices
-- change. Not on a sharded cluster (every replica would run it): there the totals read the executions.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_execution_totals_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_execution_totals
AS SELECT
    toDate(e.Start, 'UTC') AS Day, e.Project AS Project, e.Kind AS Kind, e.Name AS Name, e.Status AS Status,
    e.ServiceName AS ServiceName, count() AS Executions, countIf({fact.failed_execution}) AS Failed,
    sum(s.Tokens) AS Tokens, sum(s.CostSteps) AS CostSteps, sum(s.PricedCostUsd) AS PricedCostUsd,
    sum(s.UnpricedReportedUsd) AS UnpricedReportedUsd, sum(s.UnpricedSteps) AS UnpricedSteps,
    toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM (SELECT ExecutionId, Start, Project, Kind, Name, Status, ServiceName FROM {database}.execlog_executions FINAL) AS e
LEFT JOIN (
    SELECT t.Execution AS ExecutionId, sum(r.UsageTotalTokens) AS Tokens, sum(r.CostSteps) AS CostSteps,
           sum(r.PricedCostUsd) AS PricedCostUsd, sum(r.UnpricedReportedUsd) AS UnpricedReportedUsd,
           sum(r.UnpricedSteps) AS UnpricedSteps
    FROM (
        -- Each execution's traces, each once: its latest, and the others of a retried one.
        SELECT TraceHash, ExecutionId AS Execution FROM {database}.execlog_executions FINAL
        UNION ALL
        SELECT cityHash64(TraceId) AS TraceHash, any(ExecutionId) AS Execution FROM {database}.execlog_attempts
        WHERE ExecutionId IN (SELECT ExecutionId FROM {database}.execlog_executions FINAL WHERE Attempt > 1)
        GROUP BY TraceHash
        HAVING TraceHash NOT IN (SELECT TraceHash FROM {database}.execlog_executions FINAL WHERE Attempt > 1)
    ) AS t
    INNER JOIN {database}.execlog_trace_rollups AS r ON r.TraceHash = t.TraceHash
    GROUP BY t.Execution
) AS s ON s.ExecutionId = e.ExecutionId
GROUP BY Day, Project, Kind, Name, Status, ServiceName
