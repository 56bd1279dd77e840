-- One row per observation of an execution's state: the root span of a trace
-- (its final state) or a live-state marker span (Running, Queued, Pending,
-- Paused while the root is still open). ReplacingMergeTree keeps the newest
-- observation per (Start, ExecutionId), newest by facts/observation_version.sql; retries carry the first
-- attempt's id and start, so an execution is one row whose state is its latest attempt's. A root that is not
-- execution-like (facts/is_execution_root.sql: a lone HTTP call of an instrumentation library) is no row.
SELECT
    {fact.execution_id} AS ExecutionId,
    if(SpanAttributes[{attr.EXECUTION_START}] != '',
       fromUnixTimestamp64Nano(toInt64OrZero(SpanAttributes[{attr.EXECUTION_START}])),
       Timestamp) AS Start,
    TraceId,
    if(IsMarker AND SpanAttributes[{attr.ATTEMPT_START}] != '',
       fromUnixTimestamp64Nano(toInt64OrZero(SpanAttributes[{attr.ATTEMPT_START}])),
       Timestamp) AS AttemptStart,
    if(IsMarker, toDateTime64(0, 9), Timestamp + toIntervalNanosecond(Duration)) AS AttemptEnd,
    {fact.attempt_number} AS Attempt,
    {fact.execution_name} AS Name,
    {fact.execution_kind} AS Kind,
    {fact.root_status} AS Status,
    if(SpanAttributes[{attr.VALIDATION_MESSAGE}] != '', SpanAttributes[{attr.VALIDATION_MESSAGE}],
       StatusMessage) AS StatusMessage,
    ServiceName,
    {fact.project} AS Project,
    SpanAttributes[{attr.EVENT}] AS Event,
    SpanAttributes[{attr.TARGET}] AS Target,
    SpanAttributes[{attr.TARGET_RECORD_ID}] AS TargetRecordId,
    SpanAttributes[{attr.REQUEST_ID}] AS RequestId,
    SpanAttributes[{attr.TRIGGERED_BY}] AS TriggeredBy,
    SpanAttributes[{attr.TRIGGER_FINGERPRINT}] AS TriggerFingerprint,
    SpanAttributes[{attr.RETRY_TARGET}] AS RetryTarget,
    ResourceAttributes[{attr.RESOURCE_RETRY_URL}] AS RetryUrl,
    toUInt8(SpanAttributes[{attr.RETRYABLE}] != 'false') AS Retryable,
    SpanAttributes[{attr.NOT_RETRYABLE_REASON}] AS NotRetryableReason,
    {fact.observation_version} AS Version
FROM (
    SELECT *, SpanAttributes[{attr.MARKER}] = 'state' AS IsMarker
    FROM {database}.otel_traces
    WHERE {fact.is_execution_root} OR SpanAttributes[{attr.MARKER}] = 'state'
)
