-- A block stored again is dropped by every table a view feeds, the sums included. A client that lost the answer
-- to an insert the store took sends the same block again (the Collector's exporter retries on a timeout):
-- ClickHouse drops it from otel_traces, but still runs the views over it, and each target drops its part only
-- within its own deduplication window (see 004). These three tables had none, so the repeat was counted twice
-- in them: the tokens and cost per hour (Insights' cost charts, the unfiltered listing's totals), per attempt
-- (execlog_trace_costs) and the tool calls per trace (Insights' tools chart), while the rollups, which have the
-- window, counted it once. A target's block is known by the block it came from, so a different insert whose
-- sums happen to be the same is still counted.
ALTER TABLE {database}.execlog_trace_usage {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.execlog_usage_hourly {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.execlog_trace_tools {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
