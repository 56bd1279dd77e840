-- Recomputes execlog_tool_days every hour, replacing it whole (as step_days_view.sql does): per day and kind of
-- the attempt (its root's: attempts whose root has not arrived are not runs of an execution yet, as the charts
-- read them), facet and name, the attempts that used it, over the attempts that started before yesterday and the
-- pairs first stored a minute before. Each attempt is in one day, so the days' runs add up without counting
-- an attempt twice (LEFT ANY JOIN: one attempt row per pair; ANY INNER JOIN would keep one pair per attempt).
-- Memory over time, for an hourly job beside the server: the pairs are read FINAL (one row per pair, merged as a
-- stream in the table's order) rather than grouped, joined by sorting rather than a hash table of the attempts,
-- on one thread. At 100 M spans (32 M pairs, 10 M attempts), in-process: grouped and hashed 22.6 s and +4.3 GB
-- of resident memory, FINAL 19.3 s and +1.2 GB, so on one thread 38.2 s and +0.9 GB, sort-merge joined 103.1 s
-- and +0.4 GB.
-- Not on a sharded cluster (every replica would run it): there the charts read the pairs.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_tool_days_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_tool_days
AS SELECT
    a.Day AS Day, a.Kind AS Kind, t.Facet AS Facet, t.Value AS Value, count() AS Runs,
    toDateTime(toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY, 'UTC') AS Closed,
    toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM (
    SELECT Facet, Value, Trace FROM {database}.execlog_trace_tools FINAL
    WHERE Inserted < now() - INTERVAL 1 MINUTE
) AS t
LEFT ANY JOIN (
    SELECT cityHash64(TraceId) AS Trace, toDate(Start, 'UTC') AS Day, Kind FROM {database}.execlog_attempts
    WHERE Start < toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY
) AS a ON t.Trace = a.Trace
WHERE a.Trace != 0
GROUP BY Day, Kind, Facet, Value
SETTINGS max_threads = 1, join_algorithm = 'partial_merge'
