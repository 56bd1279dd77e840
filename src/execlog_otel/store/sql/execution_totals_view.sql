-- Recomputes execlog_execution_totals every hour, replacing it whole (as step_days_view.sql does): per day of the
-- executions' start (UTC) and the values the listing filters by, their count, the failed ones and, over every
-- attempt, the sums of their rollups - what read/totals_parts.sql adds up for the executions it matches. Each
-- rollup finds its group by its trace: an execution's latest trace, and the earlier ones of a retried execution
-- (execlog_attempts), each once; the groups are joined by a hash of their values, so the join's table holds 16
-- bytes per attempt (at 100 M spans, 10 M attempts: 3.5 s and up to 1.5 GB joined in memory; merged from sorted
-- blocks instead, 7.7 s within 600 MB, which is what it does: it runs beside the serving). Made from what is
-- stored when it runs; Through, a minute before, is what readers compare each row's Inserted with (a row stored
-- while it ran may be in a part it did not see). Store.price_stored_costs runs it again when the prices change.
-- Not on a sharded cluster (every replica would run it): there the totals read the executions.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_execution_totals_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_execution_totals
AS SELECT
    g.Day AS Day, g.Project AS Project, g.Kind AS Kind, g.Name AS Name, g.Status AS Status,
    g.ServiceName AS ServiceName, g.Executions AS Executions, g.Failed AS Failed, c.Tokens AS Tokens,
    c.CostSteps AS CostSteps, c.PricedCostUsd AS PricedCostUsd, c.UnpricedReportedUsd AS UnpricedReportedUsd,
    c.UnpricedSteps AS UnpricedSteps, toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM (
    SELECT toDate(Start, 'UTC') AS Day, Project, Kind, Name, Status, ServiceName,
           cityHash64(Day, Project, Kind, Name, Status, ServiceName) AS GroupHash,
           count() AS Executions, countIf({fact.failed_execution}) AS Failed
    FROM {database}.execlog_executions FINAL
    GROUP BY Day, Project, Kind, Name, Status, ServiceName
) AS g
LEFT JOIN (
    SELECT t.GroupHash AS GroupHash, sum(r.UsageTotalTokens) AS Tokens, sum(r.CostSteps) AS CostSteps,
           sum(r.PricedCostUsd) AS PricedCostUsd, sum(r.UnpricedReportedUsd) AS UnpricedReportedUsd,
           sum(r.UnpricedSteps) AS UnpricedSteps
    FROM {database}.execlog_trace_rollups AS r
    INNER JOIN (
        SELECT TraceHash, cityHash64(toDate(Start, 'UTC'), Project, Kind, Name, Status, ServiceName) AS GroupHash
        FROM {database}.execlog_executions FINAL
        UNION ALL
        SELECT a.TraceHash, e.GroupHash
        FROM (SELECT DISTINCT cityHash64(TraceId) AS TraceHash, ExecutionId FROM {database}.execlog_attempts
              WHERE ExecutionId IN (SELECT ExecutionId FROM {database}.execlog_executions FINAL WHERE Attempt > 1)) AS a
        INNER JOIN (SELECT ExecutionId, TraceHash AS Latest,
                           cityHash64(toDate(Start, 'UTC'), Project, Kind, Name, Status, ServiceName) AS GroupHash
                    FROM {database}.execlog_executions FINAL WHERE Attempt > 1) AS e ON a.ExecutionId = e.ExecutionId
        WHERE a.TraceHash != e.Latest
    ) AS t ON r.TraceHash = t.TraceHash
    GROUP BY t.GroupHash
) AS c ON c.GroupHash = g.GroupHash
SETTINGS join_algorithm = 'partial_merge'
