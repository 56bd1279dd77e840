-- The outline of one trace (store/outline.py): every span's id, parent, start, duration and step status,
-- without the payloads, sorted as the step tree orders siblings (start, then span id); Skip marks what
-- the step tree leaves out (live-state markers, and HTTP requests carrying a model call, as
-- read/trace_spans.sql does). Bounded in time like the spans.
SELECT SpanId, ParentSpanId, toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration,
       {fact.step_status} AS StepStatus,
       SpanAttributes[{attr.MARKER}] = {marker_state:String} OR {fact.is_transport} AS Skip
FROM {database}.otel_traces
{model_calls_join}
WHERE TraceId = {id:String} {time_clause}
ORDER BY Timestamp, SpanId
