-- Insights' tokens and cost by agent / automation (and by model for one kind or name) over whole hours that ended
-- more than an hour ago read a summary per hour, kind, name and model (execlog_named_usage_hourly) instead of
-- every LLM step matched to its attempt: at 10 M spans, 30 days, the chart by name took 580 ms. Kind and name
-- come from the attempt's root (or the SDK's state marker at its start), which can arrive after the steps, so
-- the summary cannot be summed as spans arrive: execlog_named_usage_hourly_mv (named_usage_view.sql) recomputes
-- it every hour. Readers add what it has not seen, as for the step summaries (042): the rest of the range and
-- the LLM steps stored since it was made (execlog_llm_usage.Inserted; insights/named_usage.sql).
ALTER TABLE {database}.execlog_llm_usage {on_cluster}
    ADD COLUMN IF NOT EXISTS Inserted DateTime DEFAULT now() CODEC(Delta, ZSTD(1)),
    ADD INDEX IF NOT EXISTS idx_inserted Inserted TYPE minmax GRANULARITY 1;

-- The LLM steps stored before: their time of storing is this migration's (a part not rewritten yet reads as now:
-- read from the steps, not the summary, until it is).
ALTER TABLE {database}.execlog_llm_usage {on_cluster} MATERIALIZE COLUMN Inserted;

ALTER TABLE {database}.execlog_llm_usage {on_cluster} MATERIALIZE INDEX idx_inserted;

CREATE TABLE IF NOT EXISTS {database}.execlog_named_usage_hourly {on_cluster} (
    Hour DateTime,
    Kind LowCardinality(String),
    Name LowCardinality(String),
    Model LowCardinality(String),
    Steps UInt64,
    TokenSteps UInt64,
    InputTokens UInt64,
    OutputTokens UInt64,
    UncachedInputTokens UInt64,
    CacheReadTokens UInt64,
    CacheWriteTokens UInt64,
    VisibleOutputTokens UInt64,
    ReasoningTokens UInt64,
    TotalTokens UInt64,
    ReportedCostUsd Float64,
    ReportedWithoutTokensUsd Float64,
    PricedAs String,
    TokenCostUsd Float64,
    -- The hours summarised end here (the start of the hour before the one it ran in) ...
    Closed DateTime,
    -- ... with the LLM steps stored before this time.
    Through DateTime
) ENGINE = {engine_mergetree}
ORDER BY (Hour, Kind, Name, Model);

{named_usage_view}
