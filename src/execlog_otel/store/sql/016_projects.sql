-- Projects: each execution (and each attempt trace) carries the project it belongs to (facts/project.sql),
-- derived inside ClickHouse so spans that arrive through the Collector get it too. Stores made before
-- this migration get the column, views that fill it, and their rows derived again (schema.REDERIVE).
ALTER TABLE {database}.execlog_executions {on_cluster}
    ADD COLUMN IF NOT EXISTS Project LowCardinality(String) CODEC(ZSTD(1)) AFTER ServiceName;
ALTER TABLE {database}.execlog_attempts {on_cluster}
    ADD COLUMN IF NOT EXISTS Project LowCardinality(String) CODEC(ZSTD(1)) AFTER ServiceName;
DROP VIEW IF EXISTS {database}.execlog_executions_mv {on_cluster};
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_executions_mv {on_cluster}
TO {database}.execlog_executions
AS {executions_select};
DROP VIEW IF EXISTS {database}.execlog_attempts_mv {on_cluster};
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_attempts_mv {on_cluster}
TO {database}.execlog_attempts
AS {attempts_select};
