-- Insights' step charts (slowest and most failing steps) over whole closed days read a summary per day, kind and
-- step (execlog_step_days: runs, failures and a mergeable sketch of the durations) instead of every step: at 10 M
-- spans, 30 days, the charts read 8.7 M steps (210 ms over every execution, 600 ms for one kind, which matched
-- each step to its attempt's kind). The kind comes from the attempt's root, which arrives after its steps, so the
-- summary cannot be summed as spans arrive: execlog_step_days_mv (step_days_view.sql) recomputes it every hour
-- from the steps of the days that ended before yesterday, stored a minute before it ran. Each step row records
-- when it was stored (Inserted), so readers add what the summary has not seen: the steps of the other days, and
-- of the summarised days those stored since (insights/step_rows.sql).
ALTER TABLE {database}.execlog_steps {on_cluster}
    ADD COLUMN IF NOT EXISTS Inserted DateTime DEFAULT now() CODEC(Delta, ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted Inserted TYPE minmax GRANULARITY 1;

-- The steps stored before: their time of storing is this migration's (a part not rewritten yet reads as now:
-- read from the steps, not the summary, until it is).
ALTER TABLE {database}.execlog_steps {on_cluster} MATERIALIZE COLUMN Inserted;

ALTER TABLE {database}.execlog_steps {on_cluster} MATERIALIZE INDEX idx_inserted;

CREATE TABLE IF NOT EXISTS {database}.execlog_step_days {on_cluster} (
    Day Date,
    Kind LowCardinality(String),
    StepName LowCardinality(String),
    Runs UInt64,
    Failures UInt64,
    Durations AggregateFunction(quantilesDD({step_duration_quantiles}), UInt64),
    -- The days summarised end here (the start of yesterday when it ran) ...
    Closed DateTime,
    -- ... with the steps stored before this time.
    Through DateTime
) ENGINE = {engine_mergetree}
ORDER BY (Day, Kind, StepName);

{step_days_view}
