-- The failed and skipped steps of one attempt, oldest first (Quick View, without loading every step), from
-- the facts derived as its spans arrived (execlog_span_facts, by key). An HTTP request carrying a model call
-- is part of that call (facts/is_transport.sql over the stored is_http_client), not a step of its own.
SELECT SpanId, StepStatus, toUnixTimestamp64Nano(Start) AS StartNs
FROM (
    SELECT SpanId, Start, StepStatus,
           toUInt8(ParentSpanId IN (SELECT SpanId FROM {database}.execlog_span_facts
                                    WHERE TraceId = {id:String} AND IsModelCall
                                      AND Start >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND))
               AS ParentIsModelCall,
           {fact.is_transport} AS IsTransport
    FROM {database}.execlog_span_facts
    WHERE TraceId = {id:String} AND IsStep AND StepStatus IN ('Failed', 'Skipped')
      AND Start >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND
)
WHERE NOT IsTransport
ORDER BY Start, SpanId
LIMIT {limit:UInt32}
