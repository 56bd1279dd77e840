-- The prices in force as one array of (Model, InputPerM, OutputPerM, CacheReadPerM, CacheWritePerM,
-- ReasoningPerM), read once per query (a scalar subquery: a lookup by position costs far less than a join
-- with execlog_prices per query). Statements bind it WITH {fact.prices} AS Prices.
(SELECT groupArray((Model, InputPerM, OutputPerM, CacheReadPerM, CacheWritePerM, ReasoningPerM))
 FROM {database}.execlog_prices)
