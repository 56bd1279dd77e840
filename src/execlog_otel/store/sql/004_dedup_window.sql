-- Idempotent batch inserts: the writers send each batch with an
-- insert_deduplication_token (its batch id) and
-- deduplicate_blocks_in_dependent_materialized_views = 1, so a batch written
-- again after a crash or a spool replay is stored once. Non-replicated
-- MergeTree tables deduplicate only within this window of recent inserts;
-- the tables fed by materialized views need it too, or their rows (rollup
-- sums, trace time ranges) would double. Replicated tables have
-- replicated_deduplication_window on by default.
ALTER TABLE {database}.otel_traces {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_traces_trace_id_ts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.execlog_executions {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.execlog_trace_rollups {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
