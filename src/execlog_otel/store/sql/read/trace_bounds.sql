-- A trace's time range, to bound the read of its spans (the table the Grafana plugin uses too).
SELECT toUnixTimestamp(min(Start)), toUnixTimestamp(max(End))
FROM {database}.otel_traces_trace_id_ts
WHERE TraceId = {id:String}
