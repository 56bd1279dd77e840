-- Recomputes execlog_named_usage_hourly every hour, replacing it whole (as step_days_view.sql does): per hour,
-- kind and name (the attempt's: '' while neither its root nor its state marker has arrived) and model, the sums
-- facts/step_usage_sums.sql gives execlog_usage_hourly, over the hours that ended more than an hour before and the
-- LLM steps stored a minute before. Store.price_stored_costs runs it again when the prices change.
-- Not on a sharded cluster (every replica would run it): there the charts read the steps.
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_named_usage_hourly_mv
REFRESH EVERY 1 HOUR
TO {database}.execlog_named_usage_hourly
AS SELECT
    toStartOfHour(u.Start, 'UTC') AS Hour, a.Kind AS Kind, a.Name AS Name, u.Model AS Model,
    {fact.step_usage_sums},
    toDateTime(toStartOfHour(now(), 'UTC') - INTERVAL 1 HOUR, 'UTC') AS Closed,
    toDateTime(now() - INTERVAL 1 MINUTE, 'UTC') AS Through
FROM (
    SELECT Start, TraceId, Model, {fact.step_usage_columns}
    FROM {database}.execlog_llm_usage
    WHERE Start < toStartOfHour(now(), 'UTC') - INTERVAL 1 HOUR AND Inserted < now() - INTERVAL 1 MINUTE
) AS u
LEFT ANY JOIN (SELECT cityHash64(TraceId) AS Trace, Kind, Name FROM {database}.execlog_attempts) AS a
    ON cityHash64(u.TraceId) = a.Trace
GROUP BY Hour, Kind, Name, Model
