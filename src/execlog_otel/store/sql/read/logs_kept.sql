-- Whether otel_logs holds any record (its row count in system.tables; unknown, e.g. a Distributed table:
-- yes), so the detail page does not look for a trace's log records in a store that has none.
SELECT coalesce(total_rows, 1) > 0
FROM system.tables
WHERE database = {db:String} AND name = 'otel_logs'
