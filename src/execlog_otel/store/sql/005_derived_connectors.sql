-- Connectors Used without code: the rollups view now also names the system a
-- client span of another instrumentation called (db.system.name, messaging.system,
-- rpc.service, server.address). Stores made before this migration get the new
-- query; rows already aggregated keep their connectors.
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
