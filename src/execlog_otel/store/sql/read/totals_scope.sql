-- The attempts whose cost the listing's totals add up: those of the executions its filters matched — the
-- latest attempt of each (matched has its trace), and the earlier ones of those that were retried (looked up
-- in execlog_attempts for those only).
c.TraceId IN (SELECT TraceId FROM matched) OR c.TraceId IN (
    SELECT TraceId FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64})
      AND ExecutionId IN (SELECT ExecutionId FROM matched WHERE Attempt > 1))
