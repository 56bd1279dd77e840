-- One row per observation of an execution's state: the root span of a trace
-- (its final state) or a live-state marker span (Running, Queued, Pending,
-- Paused while the root is still open). ReplacingMergeTree keeps the newest
-- observation per (Start, ExecutionId); retries carry the first attempt's id
-- and start, so an execution is one row whose state is its latest attempt's.
SELECT
    if(SpanAttributes['execlog.retry_of'] != '', SpanAttributes['execlog.retry_of'], TraceId) AS ExecutionId,
    if(SpanAttributes['execlog.execution.start_time_unix_nano'] != '',
       fromUnixTimestamp64Nano(toInt64OrZero(SpanAttributes['execlog.execution.start_time_unix_nano'])),
       Timestamp) AS Start,
    TraceId,
    if(IsMarker AND SpanAttributes['execlog.attempt.start_time_unix_nano'] != '',
       fromUnixTimestamp64Nano(toInt64OrZero(SpanAttributes['execlog.attempt.start_time_unix_nano'])),
       Timestamp) AS AttemptStart,
    if(IsMarker, toDateTime64(0, 9), Timestamp + toIntervalNanosecond(Duration)) AS AttemptEnd,
    greatest(toUInt16OrZero(SpanAttributes['execlog.attempt']), 1) AS Attempt,
    multiIf(
        SpanAttributes['execlog.execution.name'] != '', SpanAttributes['execlog.execution.name'],
        SpanAttributes['gen_ai.agent.name'] != '', SpanAttributes['gen_ai.agent.name'],
        SpanAttributes['gen_ai.workflow.name'] != '', SpanAttributes['gen_ai.workflow.name'],
        SpanName) AS Name,
    multiIf(
        SpanAttributes['execlog.kind'] != '', SpanAttributes['execlog.kind'],
        SpanAttributes['gen_ai.operation.name'] = 'invoke_agent'
            OR SpanAttributes['openinference.span.kind'] = 'AGENT', 'agent',
        SpanAttributes['gen_ai.operation.name'] = 'invoke_workflow'
            OR SpanAttributes['openinference.span.kind'] = 'CHAIN', 'automation',
        'other') AS Kind,
    multiIf(
        SpanAttributes['execlog.status'] != '', SpanAttributes['execlog.status'],
        StatusCode = 'Error', 'Failed',
        'Success') AS Status,
    if(SpanAttributes['execlog.validation_message'] != '', SpanAttributes['execlog.validation_message'],
       StatusMessage) AS StatusMessage,
    ServiceName,
    SpanAttributes['execlog.event'] AS Event,
    SpanAttributes['execlog.target'] AS Target,
    SpanAttributes['execlog.target_record_id'] AS TargetRecordId,
    SpanAttributes['execlog.request_id'] AS RequestId,
    SpanAttributes['execlog.triggered_by'] AS TriggeredBy,
    SpanAttributes['execlog.trigger.fingerprint'] AS TriggerFingerprint,
    SpanAttributes['execlog.retry.target'] AS RetryTarget,
    ResourceAttributes['execlog.retry.url'] AS RetryUrl,
    toUInt8(SpanAttributes['execlog.retryable'] != 'false') AS Retryable,
    SpanAttributes['execlog.not_retryable_reason'] AS NotRetryableReason,
    toUInt64(toUnixTimestamp64Nano(Timestamp) + Duration) AS Version
FROM (
    SELECT *, SpanAttributes['execlog.marker'] = 'state' AS IsMarker
    FROM {database}.otel_traces
    WHERE ParentSpanId = '' OR SpanAttributes['execlog.marker'] = 'state'
)
