-- Steps as the Insights charts read them (see steps_select.sql), filled as spans arrive.
CREATE TABLE IF NOT EXISTS {database}.execlog_steps {on_cluster} (
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    StepName LowCardinality(String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    Failed UInt8 CODEC(ZSTD(1))
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Start)
ORDER BY (StepName, Start)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_steps_mv {on_cluster}
TO {database}.execlog_steps
AS {steps_select};
