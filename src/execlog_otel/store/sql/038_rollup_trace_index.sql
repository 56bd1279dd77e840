-- A bloom filter of the trace ids of every granule of execlog_trace_rollups, so a listing page's read of 50 traces
-- (read/page_facts.sql) skips the parts and granules that hold none of them. Its traces are random ids spread
-- over every granule of every day partition from the page's first start to today: the primary key cannot
-- exclude any (a 24-hour range 20 days back read all 20 partitions). At 1 in 10,000 false positives a
-- granule is read for one of 50 absent traces with odds of 1 in 200 (1 in 100 would read 40 % of them).
-- Parts written before get it in the background (MATERIALIZE INDEX is a mutation).
ALTER TABLE {database}.execlog_trace_rollups {on_cluster}
    ADD INDEX IF NOT EXISTS idx_trace_id TraceId TYPE bloom_filter(0.0001) GRANULARITY 1;

ALTER TABLE {database}.execlog_trace_rollups {on_cluster} MATERIALIZE INDEX idx_trace_id;
