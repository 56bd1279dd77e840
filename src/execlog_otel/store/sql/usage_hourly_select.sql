-- Per hour, project and model: the token kinds and runner-reported costs of the LLM steps that started in it
-- (llm_usage_rows.sql, summed by facts/step_usage_sums.sql as trace_usage_select sums per attempt), so the Insights cost charts
-- and the unfiltered listing's totals read a few rows per hour instead of a row per attempt; they price them
-- when read (facts/usage_cost_usd.sql), so a price change still reaches the past.
SELECT
    toStartOfHour(Start) AS Hour, Project, Model,
    {fact.step_usage_sums}
FROM (
    SELECT Start, Project, Model, {fact.step_usage_columns}
    FROM ({llm_usage_rows})
)
GROUP BY Hour, Project, Model
