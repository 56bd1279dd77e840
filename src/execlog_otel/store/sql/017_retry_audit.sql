-- Every retry request made through the viewer or API, accepted or refused: who asked (user or token
-- name), when, from where (client address), single or bulk, the outcome and why. Kept as long as spans.
CREATE TABLE IF NOT EXISTS {database}.execlog_retry_audit {on_cluster} (
    Time DateTime64(3) CODEC(Delta, ZSTD(1)),
    ExecutionId String CODEC(ZSTD(1)),
    Project LowCardinality(String) CODEC(ZSTD(1)),
    Actor String CODEC(ZSTD(1)),
    ActorKind LowCardinality(String) CODEC(ZSTD(1)),
    Address String CODEC(ZSTD(1)),
    Mode LowCardinality(String) CODEC(ZSTD(1)),
    Accepted UInt8 CODEC(ZSTD(1)),
    Code LowCardinality(String) CODEC(ZSTD(1)),
    Reason String CODEC(ZSTD(1)),
    Attempt UInt16 CODEC(ZSTD(1)),
    INDEX idx_execution_id ExecutionId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = {engine_mergetree}
PARTITION BY toDate(Time)
ORDER BY (Project, Time)
TTL toDateTime(Time) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;
