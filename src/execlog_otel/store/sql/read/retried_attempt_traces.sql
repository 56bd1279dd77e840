-- The attempts page_facts.sql reads when some executions of the page were retried: the latest ones, and every
-- attempt of the retried executions (earlier_attempts.sql).
r.TraceId IN {traces:Array(String)} OR r.TraceId IN (SELECT TraceId FROM ({earlier_attempts}))
