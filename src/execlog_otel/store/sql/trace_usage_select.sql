-- Per attempt (trace) and model: the token kinds, runner-reported costs and token costs of its LLM steps,
-- summed from the priced execlog_llm_usage rows as they arrive (facts/ give each kind, as execlog_llm_costs
-- reads them), so the listing, the totals and the Insights read a few rows per attempt instead of every span.
SELECT
    TraceId, Model, min(Start) AS Start,
    {fact.step_usage_sums}
FROM (
    SELECT Start, TraceId, Model, {fact.step_usage_columns}
    FROM {database}.execlog_llm_usage
)
GROUP BY TraceId, Model
