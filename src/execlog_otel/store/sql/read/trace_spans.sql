-- The spans of one trace, oldest first, as stored; their derived facts are read beside them by key
-- (read/span_facts.sql). Resource attributes are only read on the root and state markers (the detail's
-- header), in a branch of their own: the granules that hold a big execution's steps also hold other traces'
-- spans, and reading their resource maps took a quarter of the read (1,000 steps at 100 M spans: 153 -> 115 ms).
-- A state marker is told by its name there (the SDK names every marker so): the name costs nothing to read.
SELECT * FROM (
    SELECT {trace_span_columns}, ResourceAttributes AS Resource
    FROM {database}.otel_traces
    WHERE TraceId = {id:String} {time_clause} AND (ParentSpanId = '' OR SpanName = {attr.STATE_SPAN_NAME})
    UNION ALL
    SELECT {trace_span_columns}, map() AS Resource
    FROM {database}.otel_traces
    WHERE TraceId = {id:String} {time_clause} AND NOT (ParentSpanId = '' OR SpanName = {attr.STATE_SPAN_NAME})
)
ORDER BY StartNs, SpanId
LIMIT {limit:UInt32}
