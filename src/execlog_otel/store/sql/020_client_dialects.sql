-- Other clients' attribute dialects (OpenLLMetry, OpenLIT, the current and older GenAI conventions) and
-- transport noise, read by the facts in facts/: the views take the new rules, and the derived tables
-- are derived again from otel_traces (schema.REDERIVE), so executions recorded before read the same.
ALTER TABLE {database}.execlog_executions_mv {on_cluster} MODIFY QUERY {executions_select};
ALTER TABLE {database}.execlog_attempts_mv {on_cluster} MODIFY QUERY {attempts_select};
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
