-- attempts_filter.sql when the listing's filters select nothing but the time range: the rows of the
-- range itself, without looking up which executions they belong to (every execution of the range is in).
Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
