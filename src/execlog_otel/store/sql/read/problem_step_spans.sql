-- What Quick View shows of the problem steps read/problem_steps.sql found: their names and messages.
SELECT SpanId, SpanName, SpanAttributes[{attr.EXECUTION_NAME}] AS StepName, StatusMessage,
       SpanAttributes[{attr.SKIP_REASON}] AS SkipReason, SpanAttributes[{attr.VALIDATION_MESSAGE}] AS Validation
FROM {database}.otel_traces
WHERE TraceId = {id:String} AND SpanId IN {span_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
