-- Logs and metric points exactly once across a crash: the log's writer sends each insert into these
-- tables with an insert_deduplication_token naming its rows in the write-ahead log, so the batch that
-- was being inserted when the process died, written again at the next start, is stored once.
-- Non-replicated MergeTree tables deduplicate only within this window of recent inserts (see 004).
ALTER TABLE {database}.otel_logs {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_metrics_gauge {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_metrics_sum {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_metrics_histogram {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_metrics_exponential_histogram {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE {database}.otel_metrics_summary {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
