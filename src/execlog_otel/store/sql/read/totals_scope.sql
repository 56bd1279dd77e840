-- The attempts whose cost the listing's totals add up: those of the executions its filters matched.
c.TraceId IN (
    SELECT TraceId FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64}) AND ExecutionId IN (SELECT ExecutionId FROM matched))
