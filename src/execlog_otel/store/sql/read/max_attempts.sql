-- The attempt limit the latest attempts' root spans record.
SELECT TraceId, SpanAttributes[{attr.MAX_ATTEMPTS}] AS MaxAttempts
FROM {database}.otel_traces
WHERE TraceId IN {ids:Array(String)} AND ParentSpanId = ''
  AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
