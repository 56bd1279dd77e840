-- Each attempt's trace id hashed once, when its rollup row is written (a MATERIALIZED column, 8 bytes a row): the
-- listing's totals under a filter pick the rollups of the attempts they matched by this hash
-- (read/totals_scope.sql), and hashing every rollup's 32-character id at read time was a third of that query (at
-- 10 M spans, a status filter's totals in-process, alternated with the code before: p50 260 -> 182 ms while a
-- test suite ran; the hash column alone scanned against 1 M ids hashed: 63 against 124 ms). The rows stored
-- before get it by a background mutation; until then it is computed from TraceId where it is read.
ALTER TABLE {database}.execlog_trace_rollups {on_cluster}
    ADD COLUMN IF NOT EXISTS TraceHash UInt64 MATERIALIZED cityHash64(TraceId) CODEC(ZSTD(1)) AFTER TraceId;
ALTER TABLE {database}.execlog_trace_rollups {on_cluster} MATERIALIZE COLUMN TraceHash;
