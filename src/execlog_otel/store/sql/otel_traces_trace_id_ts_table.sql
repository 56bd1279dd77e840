-- Trace id -> time range, as the Collector's exporter creates it today
-- (traces_id_ts_lookup_table.sql): aggregated per trace id, partitioned by week. The Grafana
-- plugin (and the detail query) bound a trace-id lookup in time with min(Start) / max(End).
CREATE TABLE IF NOT EXISTS {database}.{table_otel_traces_trace_id_ts} {on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {engine_aggregating}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
TTL toDateTime(Start) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
