-- Per-trace aggregates (steps, failures, tokens, models, tools, connectors),
-- merged in the background; queries finish the merge with GROUP BY TraceId.
CREATE TABLE IF NOT EXISTS {database}.execlog_trace_rollups {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
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
    Connectors SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1))
) ENGINE = {engine_aggregating}
PARTITION BY toDate(Start)
ORDER BY TraceId
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_trace_rollups_mv {on_cluster}
TO {database}.execlog_trace_rollups
AS {rollups_select};
