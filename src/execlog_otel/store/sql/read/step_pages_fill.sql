-- Write a stretch of a big finished attempt's steps into execlog_step_pages (033): the spans as
-- read/trace_spans.sql reads them (its facts, one rule), each at its position in the outline, given as
-- arrays (span ids, depths, parent positions, descendants) for the positions from {first}; T0 is the
-- attempt's start, which step offsets count from.
INSERT INTO {database}.execlog_step_pages
    (TraceId, Version, Total, Position, Depth, ParentPosition, Descendants, T0, Start, SpanId, ParentSpanId,
     SpanName, ServiceName, Duration, StatusMessage, SpanAttributes, EventTimes, EventNames, EventAttrs,
     StepStatus, StepKind, Connector, Model, Tool, InputTokens, OutputTokens, TotalTokens, Input, Output)
SELECT {id:String}, {version:String}, {total:UInt32}, o.Position, o.Depth, o.ParentPosition, o.Descendants,
       {t0:Int64},
       fromUnixTimestamp64Nano(s.StartNs), s.SpanId, s.ParentSpanId, s.SpanName, s.ServiceName, s.Duration,
       s.StatusMessage, s.SpanAttributes, s.EventTimes, s.EventNames, s.EventAttrs, s.StepStatus, s.StepKind,
       s.Connector, s.Model, s.Tool, s.InputTokens, s.OutputTokens, s.TotalTokens, s.Input, s.Output
FROM ({trace_spans}) AS s
INNER JOIN (
    SELECT t.1 AS Sid, toUInt32({first:UInt32} + t.2 - 1) AS Position, t.3 AS Depth, t.4 AS ParentPosition,
           t.5 AS Descendants
    FROM (SELECT arrayJoin(arrayZip({span_ids:Array(String)}, arrayEnumerate({span_ids:Array(String)}),
                                    {depths:Array(UInt16)}, {parents:Array(Int64)}, {sizes:Array(UInt32)})) AS t)
) AS o ON s.SpanId = o.Sid
