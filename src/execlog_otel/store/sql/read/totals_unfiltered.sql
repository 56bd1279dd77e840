-- The attempts whose cost the totals of an unfiltered listing add up: every attempt since {cost_since} (each
-- belongs to an execution listed), read without matching them to the executions one by one.
c.TraceId IN (SELECT TraceId FROM {database}.execlog_attempts WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64}))
