-- The spans of one trace, oldest first, with each step's derived facts (the rollups count the same:
-- transport spans are no steps there and are left out of the step tree here)
-- and, on its root, the attempt's status and number (as the attempts query has them). Resource
-- attributes are only read on the root and state markers (the detail's header): a big execution's
-- thousand copies of the same map would cost more than the rest of its steps.
SELECT SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toUnixTimestamp64Nano(Timestamp) AS StartNs,
       Duration, StatusCode, StatusMessage, SpanAttributes, ScopeName,
       if(ParentSpanId = '' OR IsMarker, ResourceAttributes, map()) AS Resource,
       arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimes,
       Events.Name AS EventNames, Events.Attributes AS EventAttrs,
       Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
       SpanAttributes[{attr.MARKER}] = {marker_state:String} AS IsMarker,
       {fact.step_status} AS StepStatus, {fact.step_connector} AS Connector, {fact.step_model} AS Model,
       {fact.step_tool} AS Tool, {fact.input_tokens} AS InputTokens, {fact.output_tokens} AS OutputTokens,
       greatest(InputTokens + OutputTokens, {fact.reported_total_tokens}) AS TotalTokens,
       if(ParentSpanId = '', {fact.root_status}, '') AS RootStatus,
       if(ParentSpanId = '', toUInt16({fact.attempt_number}), 0) AS AttemptNumber,
       {fact.step_kind} AS StepKind, {fact.span_input} AS Input, {fact.span_output} AS Output,
       {fact.is_transport} AS IsTransport
FROM {database}.otel_traces
{model_calls_join}
WHERE TraceId = {id:String} {time_clause}
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
