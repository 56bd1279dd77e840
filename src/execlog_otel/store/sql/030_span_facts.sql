-- The derived facts of every span (span_facts_select.sql), kept as spans arrive and back-filled from
-- otel_traces when a store is migrated: the detail page reads them by trace instead of evaluating the
-- dialect rules of facts/ over every span's maps on each read.
CREATE TABLE IF NOT EXISTS {database}.execlog_span_facts {on_cluster} (
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    StepKind LowCardinality(String) CODEC(ZSTD(1)),
    StepStatus LowCardinality(String) CODEC(ZSTD(1)),
    Connector LowCardinality(String) CODEC(ZSTD(1)),
    Model LowCardinality(String) CODEC(ZSTD(1)),
    Tool LowCardinality(String) CODEC(ZSTD(1)),
    InputTokens UInt64 CODEC(T64, ZSTD(1)),
    OutputTokens UInt64 CODEC(T64, ZSTD(1)),
    ReportedTotalTokens UInt64 CODEC(T64, ZSTD(1)),
    RootStatus LowCardinality(String) CODEC(ZSTD(1)),
    AttemptNumber UInt16 CODEC(ZSTD(1)),
    IsStep Bool CODEC(ZSTD(1)),
    IsModelCall Bool CODEC(ZSTD(1)),
    IsHttpClient Bool CODEC(ZSTD(1)),
    Input String CODEC(ZSTD(3)),
    Output String CODEC(ZSTD(3))
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start, SpanId)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_span_facts_mv {on_cluster}
TO {database}.execlog_span_facts
AS {span_facts_select};
