-- Insights' most used tools and connectors count the runs (attempts) of the executions selected that used each.
-- They read every attempt's rollup (its tools and connectors as arrays of names, and its trace id to count runs
-- distinct: an attempt's rollup is in several rows until their parts merge): at 10 M spans, 30 days, 280 and
-- 200 ms. Now a narrow row per attempt, facet and name (execlog_trace_tools), filled from the rollups as they
-- arrive, and a summary of the runs per day, kind, facet and name over the days that ended before yesterday
-- (execlog_tool_days), recomputed every hour (tool_days_view.sql) as the step summaries are (042): readers add
-- the rest of the range and the pairs stored since (insights/tool_runs.sql).
CREATE TABLE IF NOT EXISTS {database}.execlog_trace_tools {on_cluster} (
    Facet LowCardinality(String),
    Value LowCardinality(String),
    -- The attempt: cityHash64 of its trace id, as insights/attempts_filter.sql matches attempts.
    Trace UInt64,
    Start SimpleAggregateFunction(min, DateTime64(9)) CODEC(Delta, ZSTD(1)),
    -- When the pair was first stored.
    Inserted SimpleAggregateFunction(min, DateTime) CODEC(Delta, ZSTD(1)),
    INDEX idx_inserted Inserted TYPE minmax GRANULARITY 1
) ENGINE = {engine_aggregating}
PARTITION BY toDate(Start)
ORDER BY (Facet, Value, Trace)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_trace_tools_mv {on_cluster}
TO {database}.execlog_trace_tools
AS {trace_tools_select};

CREATE TABLE IF NOT EXISTS {database}.execlog_tool_days {on_cluster} (
    Day Date,
    Kind LowCardinality(String),
    Facet LowCardinality(String),
    Value LowCardinality(String),
    Runs UInt64,
    -- The days summarised end here (the start of yesterday when it ran) ...
    Closed DateTime,
    -- ... with the pairs first stored before this time.
    Through DateTime
) ENGINE = {engine_mergetree}
ORDER BY (Facet, Day, Kind, Value);

{tool_days_view}
