-- Costs stored with the usage they price: each LLM span is priced as it arrives (llm_usage_rows.sql), the
-- per-attempt and per-hour sums carry the sum of its token costs and the price name its model matched, and
-- pricing.install prices the stored rows again whenever the prices change (reprice.sql). Reads (the
-- listing, totals, Insights, detail, execlog_llm_costs, execlog_trace_costs) then sum numbers instead of
-- matching model names and multiplying rates on every query. The rows stored before this migration are
-- priced by pricing.install when the store opens (Store.migrate).
ALTER TABLE {database}.execlog_llm_usage {on_cluster}
    ADD COLUMN IF NOT EXISTS PricedAs LowCardinality(String) DEFAULT '' CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS TokenCostUsd Float64 DEFAULT 0 CODEC(ZSTD(1));

ALTER TABLE {database}.execlog_trace_usage {on_cluster}
    ADD COLUMN IF NOT EXISTS PricedAs SimpleAggregateFunction(anyLast, String) DEFAULT '' CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS TokenCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1));

ALTER TABLE {database}.execlog_usage_hourly {on_cluster}
    ADD COLUMN IF NOT EXISTS PricedAs SimpleAggregateFunction(anyLast, String) DEFAULT '' CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS TokenCostUsd SimpleAggregateFunction(sum, Float64) DEFAULT 0 CODEC(ZSTD(1));

ALTER TABLE {database}.execlog_llm_usage_mv {on_cluster} MODIFY QUERY {llm_usage_select};
ALTER TABLE {database}.execlog_trace_usage_mv {on_cluster} MODIFY QUERY {trace_usage_select};
ALTER TABLE {database}.execlog_usage_hourly_mv {on_cluster} MODIFY QUERY {usage_hourly_select};

CREATE OR REPLACE VIEW {database}.execlog_trace_costs {on_cluster} AS {trace_costs_select};

CREATE OR REPLACE VIEW {database}.execlog_llm_costs {on_cluster} AS {llm_costs_select};
