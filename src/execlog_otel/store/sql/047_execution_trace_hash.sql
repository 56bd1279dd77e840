-- Each execution's latest trace id hashed once, when its row is written (a MATERIALIZED column, 8 bytes a row):
-- the listing's totals under a filter build the set of the matched executions' attempts from it
-- (read/totals_scope.sql) and probe the rollups' own hash (migration 045) with it; hashing each matched row's
-- 32-character id at read time read every id of the range (the matched rows are spread over every granule). At
-- 10 M spans, a status filter's totals in-process, alternated with the code before: p50 186 -> 148 ms. The rows
-- stored before get it by a background mutation; until then it is computed from TraceId where it is read.
ALTER TABLE {database}.execlog_executions {on_cluster}
    ADD COLUMN IF NOT EXISTS TraceHash UInt64 MATERIALIZED cityHash64(TraceId) CODEC(ZSTD(1)) AFTER TraceId;
ALTER TABLE {database}.execlog_executions {on_cluster} MATERIALIZE COLUMN TraceHash;
