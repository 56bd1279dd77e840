-- The listing's search served by an index instead of a scan of every execution: a text index of the
-- ngrams (3 characters) of the searched fields (facts/execution_search_text.sql), where the engine has
-- text indexes (ClickHouse >= 26.2, chDB's included), else an ngram bloom filter; ids (32 hex) are also
-- found through the bloom filters on ExecutionId / TraceId (ClickHouse combines skip indexes across an
-- OR). Executions already stored get the index by the MATERIALIZE mutation (in the background).
ALTER TABLE {database}.execlog_executions {on_cluster}
    ADD INDEX IF NOT EXISTS idx_search {fact.execution_search_text} TYPE {search_index_type} GRANULARITY 1;
ALTER TABLE {database}.execlog_executions {on_cluster} MATERIALIZE INDEX idx_search;
