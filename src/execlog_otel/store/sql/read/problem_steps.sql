-- The failed and skipped steps of one attempt, oldest first (Quick View, without loading every step). An
-- HTTP request carrying a model call is part of that call (facts/is_transport.sql), not a step of its own.
SELECT SpanName, SpanAttributes[{attr.EXECUTION_NAME}] AS StepName, StepStatus, StatusMessage,
       SpanAttributes[{attr.SKIP_REASON}] AS SkipReason, SpanAttributes[{attr.VALIDATION_MESSAGE}] AS Validation,
       toUnixTimestamp64Nano(Timestamp) AS StartNs
FROM (
    SELECT *, {fact.step_status} AS StepStatus, {fact.is_transport} AS IsTransport
    FROM {database}.otel_traces
    LEFT JOIN (SELECT SpanId AS ModelSpanId, toUInt8(1) AS ParentIsModelCall FROM {database}.otel_traces
               WHERE TraceId = {id:String} AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
                 AND {fact.is_model_call}) AS model_calls
        ON ParentSpanId = model_calls.ModelSpanId
    WHERE TraceId = {id:String} AND {fact.is_step}
      AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
)
WHERE StepStatus IN ('Failed', 'Skipped') AND NOT IsTransport
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
