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
WHERE {fact.is_step}
