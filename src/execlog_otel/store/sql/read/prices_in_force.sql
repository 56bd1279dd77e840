-- The prices in force (execlog prices): per model, USD per million tokens.
SELECT Model, Provider, InputPerM, OutputPerM, CacheReadPerM, CacheWritePerM, ReasoningPerM, CheckedOn, Origin
FROM execlog_prices
ORDER BY Provider, Model
