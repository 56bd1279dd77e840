-- Per-trace rollups of every span: step counts, failed and skipped steps,
-- tokens (current GenAI names, deprecated ones, and OpenInference), models,
-- tools and connectors. Agent/workflow spans written by other
-- instrumentations often repeat their children's token totals, so their own
-- counts are left out unless the span is an execlog root.
SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp + toIntervalNanosecond(Duration)) AS End,
    toUInt64(countIf(IsStep)) AS Steps,
    toUInt64(countIf(IsStep AND (StepStatus = 'Failed' OR (StepStatus = '' AND StatusCode = 'Error')))) AS FailedSteps,
    toUInt64(countIf(IsStep AND StepStatus = 'Skipped')) AS SkippedSteps,
    sum(InTok) AS InputTokens,
    sum(OutTok) AS OutputTokens,
    sum(greatest(InTok + OutTok, TotTok)) AS TotalTokens,
    groupUniqArrayIf(Model, Model != '') AS Models,
    groupUniqArrayIf(Tool, Tool != '') AS Tools,
    groupUniqArrayIf(Connector, Connector != '') AS Connectors
FROM (
    SELECT
        TraceId, Timestamp, Duration, StatusCode, SpanKind,
        ParentSpanId != '' AND SpanAttributes['execlog.marker'] = '' AS IsStep,
        SpanAttributes['execlog.step.status'] AS StepStatus,
        SpanAttributes['gen_ai.operation.name'] IN ('invoke_agent', 'invoke_workflow')
            AND SpanAttributes['execlog.kind'] = '' AS IsAggregate,
        if(IsAggregate, 0, multiIf(
            SpanAttributes['gen_ai.usage.input_tokens'] != '', toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']),
            SpanAttributes['gen_ai.usage.prompt_tokens'] != '', toUInt64OrZero(SpanAttributes['gen_ai.usage.prompt_tokens']),
            toUInt64OrZero(SpanAttributes['llm.token_count.prompt']))) AS InTok,
        if(IsAggregate, 0, multiIf(
            SpanAttributes['gen_ai.usage.output_tokens'] != '', toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']),
            SpanAttributes['gen_ai.usage.completion_tokens'] != '', toUInt64OrZero(SpanAttributes['gen_ai.usage.completion_tokens']),
            toUInt64OrZero(SpanAttributes['llm.token_count.completion']))) AS OutTok,
        if(IsAggregate, 0, toUInt64OrZero(SpanAttributes['llm.token_count.total'])) AS TotTok,
        multiIf(
            SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'],
            SpanAttributes['gen_ai.request.model'] != '', SpanAttributes['gen_ai.request.model'],
            SpanAttributes['llm.model_name']) AS Model,
        multiIf(
            SpanAttributes['gen_ai.tool.name'] != '', SpanAttributes['gen_ai.tool.name'],
            SpanAttributes['tool.name'] != '', SpanAttributes['tool.name'],
            SpanAttributes['execlog.tool']) AS Tool,
        -- Connectors: named by the SDK, else the system a client span of another
        -- instrumentation called (database, messaging system, RPC service, host),
        -- so "Connectors Used" needs no code; model calls are not connectors.
        multiIf(
            SpanAttributes['execlog.connector'] != '', SpanAttributes['execlog.connector'],
            SpanKind NOT IN ('Client', 'Producer')
                OR SpanAttributes['gen_ai.operation.name'] != '' OR SpanAttributes['gen_ai.system'] != ''
                OR SpanAttributes['gen_ai.provider.name'] != '' OR SpanAttributes['llm.model_name'] != '', '',
            SpanAttributes['db.system.name'] != '', SpanAttributes['db.system.name'],
            SpanAttributes['db.system'] != '', SpanAttributes['db.system'],
            SpanAttributes['messaging.system'] != '', SpanAttributes['messaging.system'],
            SpanAttributes['rpc.service'] != '', SpanAttributes['rpc.service'],
            SpanAttributes['server.address'] != '', SpanAttributes['server.address'],
            SpanAttributes['net.peer.name']) AS Connector
    FROM {database}.otel_traces
)
GROUP BY TraceId
