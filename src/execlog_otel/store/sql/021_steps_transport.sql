-- Insights' step rows leave out the HTTP requests that carry model calls, as the rollups do since 020:
-- the view takes the rule, and execlog_steps is derived again from otel_traces (schema.REDERIVE).
ALTER TABLE {database}.execlog_steps_mv {on_cluster} MODIFY QUERY {steps_select};
