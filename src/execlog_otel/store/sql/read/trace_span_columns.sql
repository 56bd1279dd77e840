-- The columns of read/trace_spans.sql but the resource attributes (read in one of its two branches).
SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toUnixTimestamp64Nano(Timestamp) AS StartNs,
Duration, StatusCode, StatusMessage, SpanAttributes, ScopeName,
arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimes,
Events.Name AS EventNames, Events.Attributes AS EventAttrs,
Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
SpanAttributes[{attr.MARKER}] = {marker_state:String} AS IsMarker
