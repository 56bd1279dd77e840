-- Which schema migrations this store has applied (execlog's own bookkeeping).
CREATE TABLE IF NOT EXISTS {database}.execlog_schema_migrations {on_cluster} (
    Version UInt32,
    Name String,
    AppliedAt DateTime DEFAULT now()
) ENGINE = {engine_replacing_applied}
ORDER BY Version;

-- Key/value settings of the store, e.g. the retention in force.
CREATE TABLE IF NOT EXISTS {database}.execlog_meta {on_cluster} (
    Key String,
    Value String,
    UpdatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = {engine_replacing_updated}
ORDER BY Key;
