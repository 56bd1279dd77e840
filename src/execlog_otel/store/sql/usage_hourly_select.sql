-- Per hour, project and model: the token kinds, runner-reported costs and token costs of the LLM steps that
-- started in it (llm_usage_rows.sql, priced as they arrive and re-priced when the prices change; summed by
-- facts/step_usage_sums.sql as trace_usage_select sums per attempt), so the Insights cost charts and the
-- unfiltered listing's totals read a few rows per hour instead of a row per attempt (facts/usage_cost_usd.sql).
SELECT
    toStartOfHour(Start) AS Hour, Project, Model,
    {fact.step_usage_sums}
FROM (
    SELECT Start, Project, Model, {fact.step_usage_columns}
    FROM ({llm_usage_rows})
)
GROUP BY Hour, Project, Model
