-- Which spans are model calls, so the HTTP requests that carry them are known (facts/is_transport.sql):
-- joined by read/step_outline.sql, bounded like its spans (the detail's spans take the same fact from their
-- span facts: read/span_facts.sql, IsTransport).
LEFT JOIN (SELECT SpanId AS ModelSpanId, toUInt8(1) AS ParentIsModelCall FROM {database}.otel_traces
           WHERE TraceId = {id:String} {time_clause} AND {fact.is_model_call}) AS model_calls
    ON ParentSpanId = model_calls.ModelSpanId
