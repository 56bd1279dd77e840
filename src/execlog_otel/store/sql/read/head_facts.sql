-- The derived facts of the span read/head.sql found (execlog_span_facts, by key).
SELECT Input, Output, RootStatus, AttemptNumber
FROM {database}.execlog_span_facts
WHERE TraceId = {id:String} AND SpanId = {span_id:String} AND Start = fromUnixTimestamp64Nano({start_ns:Int64})
LIMIT 1
