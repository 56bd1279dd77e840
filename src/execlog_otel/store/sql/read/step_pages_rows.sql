-- Steps of a big attempt by position, from execlog_step_pages (033): the columns records.step reads, as
-- read/trace_spans.sql names them; one row per position (a stretch written twice is read once).
SELECT Position, Depth, Descendants, SpanId, ParentSpanId, SpanName, ServiceName,
       toUnixTimestamp64Nano(Start) AS StartNs, Duration, StatusMessage, SpanAttributes, EventTimes, EventNames,
       EventAttrs, StepStatus, StepKind, Connector, Model, Tool, InputTokens, OutputTokens, TotalTokens, Input,
       Output
FROM {database}.execlog_step_pages
WHERE TraceId = {id:String} AND Version = {version:String} AND Position IN {positions:Array(UInt32)}
  AND Start >= fromUnixTimestamp64Nano({lo_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({hi_ns:Int64})
ORDER BY Position
LIMIT 1 BY Position
