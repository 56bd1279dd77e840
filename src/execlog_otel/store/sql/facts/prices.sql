-- The prices in force as one array of (Model, InputPerM, OutputPerM, CacheReadPerM, CacheWritePerM,
-- ReasoningPerM), read once per query (a scalar subquery: a lookup by position costs far less than a join
-- with execlog_prices per query). Statements bind it WITH {fact.prices} AS Prices. {prices_database}: where
-- the prices are (the sharded layout keeps them whole in the main database, beside the local tables).
(SELECT groupArray((Model, InputPerM, OutputPerM, CacheReadPerM, CacheWritePerM, ReasoningPerM))
 FROM {prices_database}.execlog_prices)
