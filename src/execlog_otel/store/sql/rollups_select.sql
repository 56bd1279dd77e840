-- Per-trace rollups of every span: step counts, failed and skipped steps,
-- tokens (current GenAI names, deprecated ones, and OpenInference), models,
-- tools and connectors, each from the fact of the same name in facts/, which
-- the detail page's steps read too. Agent/workflow spans written by other
-- instrumentations often repeat their children's token totals, so their own
-- counts are left out unless the span is an execlog root; so is the model they
-- name (OpenLIT's invoke_workflow span names the dated model of the call under it:
-- one call listed two models). HTTP requests that carry
-- a model call (facts/is_transport.sql) are neither steps nor connectors; the view
-- sees the spans of one insert, so a model call and its HTTP spans count so when
-- they arrive together (an exporter's batch holds a call and its requests).
SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp + toIntervalNanosecond(Duration)) AS End,
    toUInt64(countIf(IsStep)) AS Steps,
    toUInt64(countIf(IsStep AND StepStatus = 'Failed')) AS FailedSteps,
    toUInt64(countIf(IsStep AND StepStatus = 'Skipped')) AS SkippedSteps,
    sum(InTok) AS InputTokens,
    sum(OutTok) AS OutputTokens,
    sum(greatest(InTok + OutTok, TotTok)) AS TotalTokens,
    groupUniqArrayIf(Model, Model != '' AND NOT IsAggregate) AS Models,
    groupUniqArrayIf(Tool, Tool != '') AS Tools,
    groupUniqArrayIf(Connector, Connector != '') AS Connectors
FROM (
    SELECT
        TraceId, Timestamp, Duration,
        {fact.is_transport} AS IsTransport,
        {fact.is_step} AND NOT IsTransport AS IsStep,
        {fact.step_status} AS StepStatus,
        {fact.is_aggregate} AS IsAggregate,
        if(IsAggregate, 0, {fact.input_tokens}) AS InTok,
        if(IsAggregate, 0, {fact.output_tokens}) AS OutTok,
        if(IsAggregate, 0, {fact.reported_total_tokens}) AS TotTok,
        {fact.step_model} AS Model,
        {fact.step_tool} AS Tool,
        if(IsTransport, '', {fact.step_connector}) AS Connector
    FROM {database}.otel_traces
    -- The parent of each span when it is a model call (in a view: among the spans of the same insert).
    LEFT JOIN (SELECT TraceId AS ModelTraceId, SpanId AS ModelSpanId, toUInt8(1) AS ParentIsModelCall
               FROM {database}.otel_traces WHERE {fact.is_model_call}) AS model_calls
        ON TraceId = model_calls.ModelTraceId AND ParentSpanId = model_calls.ModelSpanId
)
GROUP BY TraceId
