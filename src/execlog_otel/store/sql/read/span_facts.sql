-- The derived facts of one trace's spans (execlog_span_facts, derived as they arrived), each step's as
-- the detail shows it (the rollups count the same: transport spans are no steps there and are left out
-- of the step tree here), and on its root the attempt's status and number (as the attempts query has
-- them). An HTTP request is transport when its parent is a model call (facts/is_transport.sql over the
-- stored is_http_client).
SELECT SpanId, toUnixTimestamp64Nano(Start) AS StartNs, StepKind, StepStatus, Connector, Model, Tool,
       InputTokens, OutputTokens, greatest(InputTokens + OutputTokens, ReportedTotalTokens) AS TotalTokens,
       if(ParentSpanId = '', RootStatus, '') AS RootStatus, if(ParentSpanId = '', AttemptNumber, 0) AS AttemptNumber,
       Input, Output,
       toUInt8(ParentSpanId IN (SELECT SpanId FROM {database}.execlog_span_facts
                                WHERE TraceId = {id:String} {time_clause} AND IsModelCall)) AS ParentIsModelCall,
       {fact.is_transport} AS IsTransport
FROM {database}.execlog_span_facts
WHERE TraceId = {id:String} {time_clause} {span_clause}
ORDER BY Start, SpanId
LIMIT {limit:UInt32}
