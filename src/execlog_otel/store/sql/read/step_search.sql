-- The steps of one trace whose name, kind, tool, connector, model, status, error, skip reason, input or
-- output contains the text (case-insensitive): span ids only, at most {limit}; the outline gives their
-- positions. The text is a bound parameter.
SELECT SpanId
FROM {database}.otel_traces
WHERE TraceId = {id:String} {time_clause} AND {fact.is_step}
  AND positionCaseInsensitiveUTF8(concat(
        {fact.step_name}, '\n', SpanAttributes[{attr.STEP_KIND}], '\n', {fact.step_tool}, '\n',
        {fact.step_connector}, '\n', {fact.step_model}, '\n', {fact.step_status}, '\n', StatusMessage, '\n',
        SpanAttributes[{attr.VALIDATION_MESSAGE}], '\n', SpanAttributes[{attr.SKIP_REASON}], '\n',
        SpanAttributes[{attr.INPUT}], '\n', SpanAttributes[{attr.INPUT_VALUE}], '\n',
        SpanAttributes[{attr.OUTPUT}], '\n', SpanAttributes[{attr.OUTPUT_VALUE}]), {q:String}) > 0
ORDER BY Timestamp, SpanId
LIMIT {limit:UInt32}
