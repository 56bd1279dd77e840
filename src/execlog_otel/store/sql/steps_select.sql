-- One narrow row per step (facts/is_step): its trace, name, duration and whether it failed (the facts
-- the detail page shows too), so the Insights step charts read a few columns instead of every span's
-- attribute maps.
SELECT
    Timestamp AS Start,
    TraceId,
    {fact.step_name} AS StepName,
    Duration,
    toUInt8({fact.step_status} = 'Failed') AS Failed
FROM {database}.otel_traces
-- The parent of each span when it is a model call (in a view: among the spans of the same insert), so the
-- HTTP requests that carry model calls are left out as the rollups leave them out (facts/is_transport.sql).
LEFT JOIN (SELECT TraceId AS ModelTraceId, SpanId AS ModelSpanId, toUInt8(1) AS ParentIsModelCall
           FROM {database}.otel_traces WHERE {fact.is_model_call}) AS model_calls
    ON TraceId = model_calls.ModelTraceId AND ParentSpanId = model_calls.ModelSpanId
WHERE {fact.is_step} AND NOT ({fact.is_transport})
