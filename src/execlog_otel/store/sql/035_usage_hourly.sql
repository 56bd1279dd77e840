-- Tokens and reported costs per hour, project and model (see usage_hourly_select.sql), summed as spans
-- arrive: what the Insights cost charts and the unfiltered listing's totals read over long ranges (a few
-- thousand rows for 30 days instead of a row per attempt). Priced like execlog_trace_usage (migration 036).
CREATE TABLE IF NOT EXISTS {database}.execlog_usage_hourly {on_cluster} (
    Hour DateTime CODEC(Delta, ZSTD(1)),
    Project LowCardinality(String) CODEC(ZSTD(1)),
    Model LowCardinality(String) CODEC(ZSTD(1)),
    Steps SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    TokenSteps SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    InputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    OutputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    UncachedInputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    CacheReadTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    CacheWriteTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    VisibleOutputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    ReasoningTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    TotalTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    ReportedCostUsd SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)),
    ReportedWithoutTokensUsd SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)),
    PricedAs SimpleAggregateFunction(anyLast, String) DEFAULT '' CODEC(ZSTD(1)),
    TokenCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1))
) ENGINE = {engine_aggregating}
PARTITION BY toYYYYMM(Hour)
ORDER BY (Hour, Project, Model)
TTL Hour + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_usage_hourly_mv {on_cluster}
TO {database}.execlog_usage_hourly
AS {usage_hourly_select};
