-- Model and token counts of every LLM span (and runner-reported costs), one row
-- per span: what costs are computed from, at read time, through execlog_llm_costs.
CREATE TABLE IF NOT EXISTS {database}.execlog_llm_usage {on_cluster} (
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Model LowCardinality(String) CODEC(ZSTD(1)),
    InputTokens UInt64 CODEC(ZSTD(1)),
    OutputTokens UInt64 CODEC(ZSTD(1)),
    CacheReadTokens UInt64 CODEC(ZSTD(1)),
    CacheWriteTokens UInt64 CODEC(ZSTD(1)),
    ReasoningTokens UInt64 CODEC(ZSTD(1)),
    ReportedCostUsd Nullable(Float64) CODEC(ZSTD(1))
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Start)
ORDER BY (TraceId, SpanId)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_llm_usage_mv {on_cluster}
TO {database}.execlog_llm_usage
AS {llm_usage_select};
