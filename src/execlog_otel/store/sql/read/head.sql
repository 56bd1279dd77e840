-- The root span of an attempt, or while it runs its newest state marker (Quick View's header; a big
-- execution's detail also makes its one attempt of it, as the attempts query would).
SELECT SpanAttributes, ResourceAttributes, toUnixTimestamp64Nano(Timestamp) AS StartNs, ParentSpanId,
       {fact.span_input} AS Input, {fact.span_output} AS Output,
       Duration, StatusMessage, {fact.root_status} AS RootStatus, toUInt16({fact.attempt_number}) AS AttemptNumber
FROM {database}.otel_traces
WHERE TraceId = {id:String} AND (ParentSpanId = '' OR SpanAttributes[{attr.MARKER}] = {marker_state:String})
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
ORDER BY ParentSpanId = '' DESC, StartNs DESC
LIMIT 1
