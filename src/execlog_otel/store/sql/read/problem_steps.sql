-- The failed and skipped steps of one attempt, oldest first (Quick View, without loading every step).
SELECT SpanName, SpanAttributes[{attr.EXECUTION_NAME}] AS StepName, StepStatus, StatusMessage,
       SpanAttributes[{attr.SKIP_REASON}] AS SkipReason, SpanAttributes[{attr.VALIDATION_MESSAGE}] AS Validation,
       toUnixTimestamp64Nano(Timestamp) AS StartNs
FROM (
    SELECT *, {fact.step_status} AS StepStatus
    FROM {database}.otel_traces
    WHERE TraceId = {id:String} AND {fact.is_step}
      AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
)
WHERE StepStatus IN ('Failed', 'Skipped')
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
