-- Per-trace aggregates (execlog_trace_rollups_table.sql: the table in its current layout).
{execlog_trace_rollups_table};

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_trace_rollups_mv {on_cluster}
TO {database}.execlog_trace_rollups
AS {rollups_select};
