-- Rows from Collector versions that wrote STATUS_CODE_ERROR / SPAN_KIND_CLIENT (before the OTLP data
-- model's rename) count as failed and as client calls (facts/span_failed.sql, facts/span_kind.sql).
-- Stores made before this migration get the new queries; rows already derived keep their values.
ALTER TABLE {database}.execlog_executions_mv {on_cluster} MODIFY QUERY {executions_select};
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
