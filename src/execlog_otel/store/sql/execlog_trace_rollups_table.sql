-- Per-trace aggregates (steps, failures, tokens, models, tools, connectors; each attempt's usage and cost, 037;
-- the trace id's hash, 045),
-- merged in the background; queries finish the merge with GROUP BY TraceId.
-- Read by key: a listing page reads the rollups of its 50 traces (read/page_facts.sql), the detail and Quick View
-- those of one execution. The traces are random ids, so 50 of them fall in 50 granules of their day's partition,
-- and each granule read decompresses the blocks that hold it: small granules of small blocks make that read
-- a few thousand rows instead of most of the day (at 100 M spans, 333,000 rollups a day, a page's 50 traces
-- in-process: 8,192-row granules of default blocks 86-107 ms, 256-row granules 58-67 ms, 512-row granules of
-- 16 KB blocks 27 ms, 256-row ones 22-23 ms; at 10 M 19.4 -> 15.4 ms; a scan of the whole table, as the tools
-- chart reads it, the same within noise; 10 % more bytes). Migration 041 rebuilds a store made before.
CREATE TABLE IF NOT EXISTS {database}.{table_execlog_trace_rollups} {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    TraceHash UInt64 MATERIALIZED cityHash64(TraceId) CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime64(9)) CODEC(ZSTD(1)),
    Steps SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    FailedSteps SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    SkippedSteps SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    InputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    OutputTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    TotalTokens SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    Models SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    Tools SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    Connectors SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    PricedCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    UnpricedReportedUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    CostSteps SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    UnpricedSteps SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ReportedCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    UncachedInputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    CacheReadTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    CacheWriteTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    VisibleOutputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ReasoningTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    UsageTotalTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    UsageInputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    UsageOutputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    -- When stored (049): readers of the listing totals' summary read a rollup stored since as it is now.
    Inserted SimpleAggregateFunction(max, DateTime) DEFAULT now() CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.0001) GRANULARITY 1,
    INDEX idx_inserted Inserted TYPE minmax GRANULARITY 64
) ENGINE = {engine_aggregating}
PARTITION BY toDate(Start)
ORDER BY TraceId
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 16384,
    ttl_only_drop_parts = 1, min_age_to_force_merge_seconds = 600, min_age_to_force_merge_on_partition_only = 1
