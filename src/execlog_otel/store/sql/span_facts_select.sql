-- Per span: the facts the detail page and Quick View show of each step, derived once as the span arrives
-- (the same facts/ the rollups and the listing take theirs from), so reading an execution reads them by
-- key instead of evaluating every dialect's rule over every span's maps when the page is opened.
SELECT
    Timestamp AS Start,
    TraceId,
    SpanId,
    ParentSpanId,
    {fact.step_kind} AS StepKind,
    {fact.step_status} AS StepStatus,
    {fact.step_connector} AS Connector,
    {fact.step_model} AS Model,
    {fact.step_tool} AS Tool,
    {fact.input_tokens} AS InputTokens,
    {fact.output_tokens} AS OutputTokens,
    {fact.reported_total_tokens} AS ReportedTotalTokens,
    {fact.root_status} AS RootStatus,
    toUInt16({fact.attempt_number}) AS AttemptNumber,
    {fact.is_step} AS IsStep,
    {fact.is_model_call} AS IsModelCall,
    {fact.is_http_client} AS IsHttpClient,
    {fact.span_input} AS Input,
    {fact.span_output} AS Output
FROM {database}.otel_traces
