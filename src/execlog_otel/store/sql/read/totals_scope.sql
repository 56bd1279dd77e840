-- The attempts whose cost the listing's totals add up (rollup rows AS r): those of the executions its filters
-- matched — the latest attempt of each (matched has its trace), and the earlier ones of those that were retried
-- (looked up in execlog_attempts for those only). Matched by a 64-bit hash of the trace id: a set of 100,000
-- hashes is built and probed faster than one of the ids (a collision among a million attempts has odds of about
-- 1 in 40 million, and would add one attempt's cost to a total).
cityHash64(r.TraceId) IN (SELECT cityHash64(TraceId) FROM matched) OR cityHash64(r.TraceId) IN (
    SELECT cityHash64(TraceId) FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64})
      AND ExecutionId IN (SELECT ExecutionId FROM matched WHERE Attempt > 1))
