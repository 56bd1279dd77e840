-- Recomputes execlog_tool_days every hour, replacing it whole (as step_days_view.sql does): per day and kind of
-- the attempt (its root's: attempts whose root has not arrived are not runs of an execution yet, as the charts
-- read them), facet and name, the attempts that used it, over the attempts that started before yesterday and the
-- pairs first stored a minute before. Each attempt is in one day, so the days' runs add up without counting
-- an attempt twice (LEFT ANY JOIN: one attempt row per pair; ANY INNER JOIN would keep one pair per attempt).
-- Not on a sharded cluster (every replica would run it): there the charts read the pairs.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_tool_days_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_tool_days
AS SELECT
    toDate(a.Start, 'UTC') AS Day, a.Kind AS Kind, t.Facet AS Facet, t.Value AS Value, count() AS Runs,
    toDateTime(toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY, 'UTC') AS Closed,
    toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM (
    SELECT Facet, Value, Trace FROM {database}.execlog_trace_tools
    GROUP BY Facet, Value, Trace
    HAVING min(Inserted) < now() - INTERVAL 1 MINUTE
) AS t
LEFT ANY JOIN (
    SELECT cityHash64(TraceId) AS Trace, Start, Kind FROM {database}.execlog_attempts
    WHERE Start < toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY
) AS a ON t.Trace = a.Trace
WHERE a.Trace != 0
GROUP BY Day, Kind, Facet, Value
