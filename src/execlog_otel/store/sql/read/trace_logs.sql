-- The OTLP log records of one trace (otel_logs, as the Collector's exporter writes it), oldest first,
-- for the detail page to show under the step (span) that wrote each, with the GenAI content each carries
-- (facts/log_input.sql, log_output.sql); bounded in time like the spans.
SELECT SpanId, toUnixTimestamp64Nano(Timestamp) AS TimeNs, SeverityText, SeverityNumber, Body, EventName,
       LogAttributes, {fact.log_input} AS Input, {fact.log_output} AS Output
FROM {database}.otel_logs
WHERE TraceId = {id:String} {time_clause}
ORDER BY Timestamp
LIMIT {limit:UInt32}
