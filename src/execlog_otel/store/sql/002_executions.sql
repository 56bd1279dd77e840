-- One row per execution, newest state wins: what the listing reads, keyset
-- paginated on (Start, ExecutionId).
CREATE TABLE IF NOT EXISTS {database}.execlog_executions {on_cluster} (
    ExecutionId String CODEC(ZSTD(1)),
    Start DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    AttemptStart DateTime64(9) CODEC(Delta, ZSTD(1)),
    AttemptEnd DateTime64(9) CODEC(ZSTD(1)),
    Attempt UInt16 CODEC(ZSTD(1)),
    Name LowCardinality(String) CODEC(ZSTD(1)),
    Kind LowCardinality(String) CODEC(ZSTD(1)),
    Status LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Project LowCardinality(String) CODEC(ZSTD(1)),
    Event LowCardinality(String) CODEC(ZSTD(1)),
    Target LowCardinality(String) CODEC(ZSTD(1)),
    TargetRecordId String CODEC(ZSTD(1)),
    RequestId String CODEC(ZSTD(1)),
    TriggeredBy String CODEC(ZSTD(1)),
    TriggerFingerprint String CODEC(ZSTD(1)),
    RetryTarget String CODEC(ZSTD(1)),
    RetryUrl String CODEC(ZSTD(1)),
    Retryable UInt8 CODEC(ZSTD(1)),
    NotRetryableReason String CODEC(ZSTD(1)),
    Version UInt64 CODEC(ZSTD(1)),
    INDEX idx_execution_id ExecutionId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_request_id RequestId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_target_record_id TargetRecordId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {engine_replacing_version}
PARTITION BY toDate(Start)
ORDER BY (Start, ExecutionId)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_executions_mv {on_cluster}
TO {database}.execlog_executions
AS {executions_select};
