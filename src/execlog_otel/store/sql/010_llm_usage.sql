-- Model and token counts of every LLM span (and runner-reported costs), one row
-- per span, with its price name and token cost (llm_usage_rows.sql; re-priced when the
-- prices change, migration 036): what execlog_llm_costs reads.
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
    ReportedCostUsd Nullable(Float64) CODEC(ZSTD(1)),
    PricedAs LowCardinality(String) DEFAULT '' CODEC(ZSTD(1)),
    TokenCostUsd Float64 DEFAULT 0 CODEC(ZSTD(1))
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Start)
ORDER BY (TraceId, SpanId)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

-- Prices per million tokens in USD, one row per model name (lower case, no
-- provider prefix). Filled when the store is opened or migrated from the
-- package's prices.toml and EXECLOG_PRICES_FILE (execlog_otel/pricing.py);
-- llm_usage_rows.sql prices each LLM span with them. NULL: the model has
-- no separate rate for that kind of token.
CREATE TABLE IF NOT EXISTS {database}.execlog_prices {on_cluster} (
    Model String,
    Provider LowCardinality(String),
    InputPerM Float64,
    OutputPerM Float64,
    CacheReadPerM Nullable(Float64),
    CacheWritePerM Nullable(Float64),
    ReasoningPerM Nullable(Float64),
    CheckedOn String,
    Source String,
    Origin String
) ENGINE = {engine_mergetree}
ORDER BY Model;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_llm_usage_mv {on_cluster}
TO {database}.execlog_llm_usage
AS {llm_usage_select};
