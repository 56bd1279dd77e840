-- USD (CostUsd, NULL for none) as whole nano-dollars: what the listing sorts by, its keyset cursors carry and "cost
-- above" compares. NULL counts as 0, and so does an amount that is not finite (a sum over rows stored before
-- migration 048, which took execlog.cost.usd "inf" as it came): ClickHouse refuses to make an integer of one, and
-- the listing sorted by cost answered 500 for everyone. Held within 9 billion dollars either way, what Int64
-- nano-dollars hold (past it, toInt64 wraps silently).
toInt64(round(greatest(least(ifNotFinite(ifNull(CostUsd, 0), 0), 9e9), -9e9) * 1e9))
