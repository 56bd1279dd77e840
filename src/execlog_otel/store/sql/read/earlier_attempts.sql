-- The attempts of the page's retried executions (each attempt's trace and its execution), so the costs of every
-- attempt (page_facts.sql) find their execution.
SELECT DISTINCT TraceId, ExecutionId
FROM {database}.execlog_attempts
WHERE ExecutionId IN {retried:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
