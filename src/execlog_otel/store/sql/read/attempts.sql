-- Every attempt of an execution: the root spans of its first trace and of the traces that retried it
-- ({match}: the first trace alone when it was never retried, which its bloom filter finds at once).
SELECT TraceId, toUInt16({fact.attempt_number}) AS Attempt,
       toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration,
       {fact.root_status} AS Status, StatusMessage
FROM {database}.otel_traces
WHERE ParentSpanId = '' AND Timestamp >= fromUnixTimestamp64Nano({start:Int64}) - INTERVAL 1 SECOND
  AND {match}
ORDER BY Attempt, StartNs
