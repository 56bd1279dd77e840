-- Attempt trace -> execution, name, kind and service (see attempts_select.sql). Rows of a
-- trace repeat the same values, so readers need neither FINAL nor argMax.
CREATE TABLE IF NOT EXISTS {database}.execlog_attempts {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    ExecutionId String CODEC(ZSTD(1)),
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    Attempt UInt16 CODEC(ZSTD(1)),
    Name LowCardinality(String) CODEC(ZSTD(1)),
    Kind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Project LowCardinality(String) CODEC(ZSTD(1)),
    INDEX idx_execution_id ExecutionId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = {engine_replacing_plain}
PARTITION BY toDate(Start)
ORDER BY TraceId
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_attempts_mv {on_cluster}
TO {database}.execlog_attempts
AS {attempts_select};
