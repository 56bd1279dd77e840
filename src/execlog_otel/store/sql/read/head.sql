-- The root span of an attempt, or while it runs its newest state marker (Quick View's header; a big
-- execution's detail also makes its one attempt of it, as the attempts query would); its derived facts
-- (input, output, status, attempt) are read by key from execlog_span_facts (read/head_facts.sql).
SELECT SpanId, SpanAttributes, ResourceAttributes, toUnixTimestamp64Nano(Timestamp) AS StartNs, ParentSpanId,
       Duration, StatusMessage
FROM {database}.otel_traces
WHERE TraceId = {id:String} AND (ParentSpanId = '' OR SpanAttributes[{attr.MARKER}] = {marker_state:String})
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
ORDER BY ParentSpanId = '' DESC, StartNs DESC
LIMIT 1
