-- The attempts whose cost the listing's totals add up (rollup rows AS r): those of the executions its filters
-- matched — the latest attempt of each (matched has its trace), and the earlier ones of those that were retried
-- (looked up in execlog_attempts for those only, and only when there are: counted.3, totals_parts.sql; at 10 M
-- spans the lookup read every attempt's execution id, 40 ms, when none was). Matched by a 64-bit hash of the
-- trace id, which each rollup row stores (TraceHash, migration 045) and each execution row too (047): a set of
-- 100,000 hashes is built and probed faster than one of the ids (a collision among a million attempts has odds
-- of about 1 in 40 million, and would add one attempt's cost to a total).
r.TraceHash IN (SELECT TraceHash FROM matched) OR r.TraceHash IN (
    SELECT cityHash64(TraceId) FROM {database}.execlog_attempts
    WHERE counted.3 > 0 AND Start >= fromUnixTimestamp64Nano({cost_since:Int64})
      AND ExecutionId IN (SELECT ExecutionId FROM matched WHERE Attempt > 1))
