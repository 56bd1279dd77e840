-- The attempts of the page's retried executions (each attempt's trace and its execution): page_facts.sql reads
-- them too, so that the cost of every attempt finds its execution.
SELECT DISTINCT TraceId, ExecutionId
FROM {database}.execlog_attempts
WHERE ExecutionId IN {retried:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
