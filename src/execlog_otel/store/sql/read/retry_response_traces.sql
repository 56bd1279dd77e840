-- Which of these traces have a Response connector step (a retry would answer the caller again).
SELECT DISTINCT TraceId
FROM {database}.otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
  AND SpanAttributes[{attr.STEP_KIND}] = {response:String}
