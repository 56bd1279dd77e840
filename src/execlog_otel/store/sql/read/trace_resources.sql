-- The resource attributes of a trace's root and state markers (the detail's header), read beside
-- read/trace_spans.sql with the same bounds. Apart, on another client: the root's granule is the only one
-- whose resource maps are read (in one statement with the steps, a UNION ALL branch read the granules of the
-- trace twice: 1,000 steps at 1 M spans 35 -> 25 ms, at 10 M 46 -> 33 ms). A state marker is told by its
-- name (the SDK names every marker so): the name costs nothing to read.
SELECT SpanId, ResourceAttributes AS Resource
FROM {database}.otel_traces
WHERE TraceId = {id:String} {time_clause} AND (ParentSpanId = '' OR SpanName = {attr.STATE_SPAN_NAME})
