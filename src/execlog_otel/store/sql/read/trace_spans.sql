-- The spans of one trace, oldest first, as stored; their derived facts are read beside them by key
-- (read/span_facts.sql). Not their resource attributes: only the root's and the state markers' are shown (the
-- detail's header), read apart by read/trace_resources.sql (the granules that hold a big execution's steps
-- also hold other traces' spans, and reading their resource maps took a quarter of the read).
SELECT SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toUnixTimestamp64Nano(Timestamp) AS StartNs,
       Duration, StatusCode, StatusMessage, SpanAttributes, ScopeName,
       arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimes,
       Events.Name AS EventNames, Events.Attributes AS EventAttrs,
       Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
       SpanAttributes[{attr.MARKER}] = {marker_state:String} AS IsMarker
FROM {database}.otel_traces
WHERE TraceId = {id:String} {time_clause}
ORDER BY StartNs, SpanId
LIMIT {limit:UInt32}
