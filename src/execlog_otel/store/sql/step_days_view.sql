-- Recomputes execlog_step_days every hour, replacing it whole (a refreshable materialized view swaps the new
-- table in when done): per day, kind (the attempt's root's: '' while it has not arrived) and step, over the days
-- that ended before yesterday (a day later, an attempt's root has arrived) and the steps stored a minute before
-- (a step stored while it ran, in a part not yet visible to it, is read from the steps by readers instead).
-- Not on a sharded cluster (every replica would run it): there the charts read the steps.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_step_days_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_step_days
AS SELECT
    toDate(s.Start, 'UTC') AS Day, a.Kind AS Kind, s.StepName AS StepName,
    count() AS Runs, sum(s.Failed) AS Failures, quantilesDDState({step_duration_quantiles})(s.Duration) AS Durations,
    toDateTime(toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY, 'UTC') AS Closed,
    toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM {database}.execlog_steps AS s
LEFT ANY JOIN (SELECT cityHash64(TraceId) AS Trace, Kind FROM {database}.execlog_attempts) AS a
    ON cityHash64(s.TraceId) = a.Trace
WHERE s.Start < toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY AND s.Inserted < now() - INTERVAL 1 MINUTE
GROUP BY Day, Kind, StepName
