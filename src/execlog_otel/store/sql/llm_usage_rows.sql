-- One row per span that used a model or reported a cost: its model and token counts by kind, as the
-- span states them (the facts of the same names, which rollups and steps read too), and the span's project.
-- Aggregate agent/workflow spans of other instrumentations are left out, as in rollups_select, so nothing
-- counts twice. Read by llm_usage_select (per span) and usage_hourly_select (per hour and model).
SELECT Timestamp AS Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens,
       ReasoningTokens, ReportedCostUsd, Project
FROM (
    SELECT
        Timestamp, TraceId, SpanId,
        {fact.is_aggregate} AS IsAggregate,
        {fact.step_model} AS Model,
        if(IsAggregate, 0, {fact.input_tokens}) AS InputTokens,
        if(IsAggregate, 0, {fact.output_tokens}) AS OutputTokens,
        if(IsAggregate, 0, {fact.cache_read_tokens}) AS CacheReadTokens,
        if(IsAggregate, 0, {fact.cache_write_tokens}) AS CacheWriteTokens,
        if(IsAggregate, 0, {fact.reasoning_tokens}) AS ReasoningTokens,
        toFloat64OrNull(nullIf(SpanAttributes[{attr.COST_USD}], '')) AS ReportedCostUsd,
        {fact.project} AS Project
    FROM {database}.otel_traces
    WHERE SpanAttributes[{attr.MARKER}] = ''
)
WHERE Model != '' OR InputTokens + OutputTokens + CacheReadTokens + CacheWriteTokens + ReasoningTokens > 0
   OR ReportedCostUsd IS NOT NULL
