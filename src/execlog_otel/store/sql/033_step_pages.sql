-- The steps of big finished attempts (more than the detail reads at once), in the depth-first order of
-- their step tree (store/outline.py), with the facts read/trace_spans.sql derives for them: written once
-- per attempt when it is first opened (read/step_pages_fill.sql), so a page of steps is a range of rows
-- and a later process reads the tree back instead of building it. Version names the attempt's finished
-- state (its status and end), Total how many steps it has: a stretch of rows is complete when it counts
-- Total rows of one Version.
CREATE TABLE IF NOT EXISTS {database}.execlog_step_pages {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    Version String CODEC(ZSTD(1)),
    Total UInt32 CODEC(ZSTD(1)),
    Position UInt32 CODEC(Delta, ZSTD(1)),
    Depth UInt16 CODEC(ZSTD(1)),
    ParentPosition Int64 CODEC(ZSTD(1)),
    Descendants UInt32 CODEC(ZSTD(1)),
    T0 Int64 CODEC(ZSTD(1)),
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventTimes Array(Int64) CODEC(ZSTD(1)),
    EventNames Array(LowCardinality(String)) CODEC(ZSTD(1)),
    EventAttrs Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    StepStatus LowCardinality(String) CODEC(ZSTD(1)),
    StepKind LowCardinality(String) CODEC(ZSTD(1)),
    Connector LowCardinality(String) CODEC(ZSTD(1)),
    Model LowCardinality(String) CODEC(ZSTD(1)),
    Tool LowCardinality(String) CODEC(ZSTD(1)),
    InputTokens UInt64 CODEC(ZSTD(1)),
    OutputTokens UInt64 CODEC(ZSTD(1)),
    TotalTokens UInt64 CODEC(ZSTD(1)),
    Input String CODEC(ZSTD(1)),
    Output String CODEC(ZSTD(1))
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Version, Position)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1;
