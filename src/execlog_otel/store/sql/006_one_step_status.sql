-- One step status: the rollups count a step as failed or skipped by the same
-- rule the detail page shows (facts/step_status.sql: execlog.step.status, else
-- execlog.status, else the span's Error status). Stores made before this
-- migration get the new query; rows already aggregated keep their counts.
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
