-- The listing's totals under a filter of status, kind, name, service or projects read a summary instead of every
-- matched execution and every rollup of its attempts: at 10 M spans a status filter's totals took 150-230 ms
-- (the set of the matched executions' traces, then a scan of a million rollups probing it). Per day of the
-- executions' start and the values those filters compare: how many, how many failed, and their sums over every
-- attempt (execlog_execution_totals, recomputed every hour by execution_totals_view.sql). The executions and
-- rollups record when each row was stored (Inserted), so readers take from the summary only the days nothing was
-- stored for since it was made, and read the others' executions as before (read/totals_summary_parts.sql): in a
-- store in use, today and any day a retry or a late step touched.
ALTER TABLE {database}.execlog_executions {on_cluster}
    ADD COLUMN IF NOT EXISTS Inserted DateTime DEFAULT now() CODEC(Delta, ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted Inserted TYPE minmax GRANULARITY 8;

-- A rollup merged from rows stored at different times keeps the latest. The minmax indexes cover 65,536 and
-- 16,384 rows: finer ones cost more to analyse than the column costs to read (at 10 M spans 7 ms against 3).
ALTER TABLE {database}.execlog_trace_rollups {on_cluster}
    ADD COLUMN IF NOT EXISTS Inserted SimpleAggregateFunction(max, DateTime) DEFAULT now() CODEC(Delta, ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted Inserted TYPE minmax GRANULARITY 64;

-- The rows stored before: their time of storing is this migration's (a part not rewritten yet reads as now: read
-- as stored after the summary until it is).
ALTER TABLE {database}.execlog_executions {on_cluster} MATERIALIZE COLUMN Inserted;

ALTER TABLE {database}.execlog_executions {on_cluster} MATERIALIZE INDEX idx_inserted;

ALTER TABLE {database}.execlog_trace_rollups {on_cluster} MATERIALIZE COLUMN Inserted;

ALTER TABLE {database}.execlog_trace_rollups {on_cluster} MATERIALIZE INDEX idx_inserted;

CREATE TABLE IF NOT EXISTS {database}.execlog_execution_totals {on_cluster} (
    Day Date,
    Project LowCardinality(String),
    Kind LowCardinality(String),
    Name LowCardinality(String),
    Status LowCardinality(String),
    ServiceName LowCardinality(String),
    Executions UInt64,
    Failed UInt64,
    -- Over every attempt of those executions: the rollups' sums the totals add up (read/totals_parts.sql).
    Tokens Int64,
    CostSteps Int64,
    PricedCostUsd Float64,
    UnpricedReportedUsd Float64,
    UnpricedSteps Int64,
    -- Made from the rows stored before this time: a day with a row stored since is read from the executions.
    Through DateTime
) ENGINE = {engine_mergetree}
ORDER BY (Status, Kind, Name, Project, ServiceName, Day);

{execution_totals_view}
