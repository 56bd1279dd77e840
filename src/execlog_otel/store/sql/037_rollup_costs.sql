-- Each attempt's cost and usage in its rollup row too (rollup_costs_select.sql, summed from execlog_trace_usage as
-- its rows arrive), so the listing and the detail read an execution's steps and cost in one read by key instead
-- of two tables' day partitions each (the 24-hour listing read both from the window's day to today). The rows
-- stored before are summed in by rollup_costs_reconcile.sql when the store opens (Store.migrate), and again
-- whenever the usage rows are priced again.
ALTER TABLE {database}.execlog_trace_rollups {on_cluster}
    ADD COLUMN IF NOT EXISTS PricedCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UnpricedReportedUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS CostSteps SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UnpricedSteps SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS ReportedCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UncachedInputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS CacheReadTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS CacheWriteTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS VisibleOutputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS ReasoningTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UsageTotalTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UsageInputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS UsageOutputTokens SimpleAggregateFunction(sum, Int64) DEFAULT 0 CODEC(ZSTD(1));

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.execlog_trace_rollup_costs_mv {on_cluster}
TO {database}.execlog_trace_rollups
AS {rollup_costs_select};
