-- Which spans are model calls, so the HTTP requests that carry them are known (facts/is_transport.sql):
-- joined by read/trace_spans.sql and read/step_outline.sql, bounded like their spans.
LEFT JOIN (SELECT SpanId AS ModelSpanId, toUInt8(1) AS ParentIsModelCall FROM {database}.otel_traces
           WHERE TraceId = {id:String} {time_clause} AND {fact.is_model_call}) AS model_calls
    ON ParentSpanId = model_calls.ModelSpanId
