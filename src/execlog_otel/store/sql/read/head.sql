-- The root span of an attempt, or while it runs its newest state marker (Quick View's header; a big
-- execution's detail also makes its one attempt of it, as the attempts query would); its derived facts
-- (input, output, status, attempt) are read by key from execlog_span_facts (read/head_facts.sql).
-- {root_only}: the attempt has ended (its state is its root's), so only the root is looked for: the markers'
-- test reads the attribute maps of every granule that holds one of the trace's spans, the root's only the
-- parent ids (at 100 M spans, in-process, 40 recent executions: 39.1 -> 17.5 ms).
SELECT SpanId, SpanAttributes, ResourceAttributes, toUnixTimestamp64Nano(Timestamp) AS StartNs, ParentSpanId,
       Duration, StatusMessage
FROM {database}.otel_traces
WHERE TraceId = {id:String}
  AND (ParentSpanId = '' OR (NOT {root_only:UInt8} AND SpanAttributes[{attr.MARKER}] = {marker_state:String}))
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
ORDER BY ParentSpanId = '' DESC, StartNs DESC
LIMIT 1
