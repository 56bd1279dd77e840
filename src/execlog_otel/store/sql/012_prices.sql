-- Prices per million tokens in USD, one row per model name (lower case, no
-- provider prefix). Filled when the store is opened or migrated from the
-- package's prices.toml and EXECLOG_PRICES_FILE (execlog_otel/pricing.py);
-- execlog_llm_costs reads them (see llm_costs_select.sql). NULL: the model has
-- no separate rate for that kind of token.
CREATE TABLE IF NOT EXISTS {database}.execlog_prices {on_cluster} (
    Model String,
    Provider LowCardinality(String),
    InputPerM Float64,
    OutputPerM Float64,
    CacheReadPerM Nullable(Float64),
    CacheWritePerM Nullable(Float64),
    ReasoningPerM Nullable(Float64),
    CheckedOn String,
    Source String,
    Origin String
) ENGINE = {engine_mergetree}
ORDER BY Model;

CREATE OR REPLACE VIEW {database}.execlog_llm_costs {on_cluster} AS {llm_costs_select};
