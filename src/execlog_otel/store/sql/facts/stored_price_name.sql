-- The price-table name a usage row's model matched, '' for none (PriceIndex and Price as facts/price_index.sql
-- and facts/prices.sql give them): stored as PricedAs when the row arrives and when it is priced again.
if(PriceIndex > 0, Price.1, '')
