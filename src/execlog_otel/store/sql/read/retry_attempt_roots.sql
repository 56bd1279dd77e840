-- The root spans of every attempt of the executions (their first traces and the traces claiming to retry
-- them), bounded in time by the oldest execution's start. Claims are checked by the caller (retry.proof).
SELECT TraceId, SpanId, toUnixTimestamp64Nano(Timestamp) AS StartNs,
       {fact.execution_id} AS ExecutionId, {fact.attempt_number} AS Attempt, {fact.root_status} AS Status,
       SpanAttributes[{attr.TRIGGER_PAYLOAD}] AS Payload,
       SpanAttributes[{k_payload_truncated:String}] = 'true' AS PayloadTruncated,
       SpanAttributes[{attr.TRIGGER_FINGERPRINT}] AS Fingerprint,
       toUInt32OrZero(SpanAttributes[{attr.MAX_ATTEMPTS}]) AS MaxAttempts,
       SpanAttributes[{attr.RETRYABLE}] = 'false' AS NotRetryable,
       SpanAttributes[{attr.NOT_RETRYABLE_REASON}] AS Reason,
       SpanAttributes[{attr.RETRY_PROOF}] AS Proof,
       if(SpanAttributes[{attr.EXECUTION_NAME}] != '', SpanAttributes[{attr.EXECUTION_NAME}], SpanName) AS Name,
       ResourceAttributes[{attr.RESOURCE_RETRY_URL}] AS RetryUrl
FROM {database}.otel_traces
WHERE ParentSpanId = '' AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
  AND (TraceId IN {ids:Array(String)} OR SpanAttributes[{attr.RETRY_OF}] IN {ids:Array(String)})
ORDER BY Attempt, StartNs
