-- The spans of one trace, oldest first, as stored; their derived facts are read beside them by key
-- (read/span_facts.sql). Resource attributes are only read on the root and state markers (the detail's
-- header): a big execution's thousand copies of the same map would cost more than the rest of its steps.
SELECT SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toUnixTimestamp64Nano(Timestamp) AS StartNs,
       Duration, StatusCode, StatusMessage, SpanAttributes, ScopeName,
       if(ParentSpanId = '' OR IsMarker, ResourceAttributes, map()) AS Resource,
       arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimes,
       Events.Name AS EventNames, Events.Attributes AS EventAttrs,
       Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
       SpanAttributes[{attr.MARKER}] = {marker_state:String} AS IsMarker
FROM {database}.otel_traces
WHERE TraceId = {id:String} {time_clause}
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
