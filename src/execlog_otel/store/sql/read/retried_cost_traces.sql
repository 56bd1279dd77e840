-- The attempts page_facts.sql prices when some executions of the page were retried: the latest ones, and
-- every attempt of the retried executions.
c.TraceId IN {traces:Array(String)} OR c.TraceId IN (
    SELECT TraceId FROM {database}.execlog_attempts
    WHERE ExecutionId IN {retried:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR)
