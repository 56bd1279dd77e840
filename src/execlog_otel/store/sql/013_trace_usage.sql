-- Tokens and reported costs per attempt (trace) and model, summed as spans arrive
-- (from execlog_llm_usage, see trace_usage_select.sql), with their token costs (priced
-- as they arrive, re-priced when the prices change: migration 036); the listing reads
-- a few rows per execution by key through execlog_trace_costs instead of every LLM span.
CREATE TABLE IF NOT EXISTS {database}.execlog_trace_usage {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    Model LowCardinality(String) CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
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
PARTITION BY toDate(Start)
ORDER BY (TraceId, Model)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_trace_usage_mv {on_cluster}
TO {database}.execlog_trace_usage
AS {trace_usage_select};

CREATE OR REPLACE VIEW {database}.execlog_trace_costs {on_cluster} AS {trace_costs_select};

-- execlog_llm_costs again, now that it takes its rules from the facts trace_costs_select shares (same figures).
CREATE OR REPLACE VIEW {database}.execlog_llm_costs {on_cluster} AS {llm_costs_select};
