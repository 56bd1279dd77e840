-- Every LLM step's usage per model (execlog_usage_hourly, summed over the hours) in the projects of {where},
-- for read/totals_by_hour.sql.
SELECT Model, {usage_sums} FROM {database}.execlog_usage_hourly {where} GROUP BY Model
