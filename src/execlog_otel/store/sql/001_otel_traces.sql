-- The span table and its trace-id lookup, as the OpenTelemetry Collector's contrib clickhouse
-- exporter creates them, so rows written by either path are interchangeable and the Grafana
-- ClickHouse plugin's OTel mode reads them (stores made by an earlier generation of this file
-- or of the exporter are rebuilt by migration 007).
{otel_traces_table};

{otel_traces_trace_id_ts_table};

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.otel_traces_trace_id_ts_mv {on_cluster}
TO {database}.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM {database}.otel_traces
WHERE TraceId != ''
GROUP BY TraceId;
