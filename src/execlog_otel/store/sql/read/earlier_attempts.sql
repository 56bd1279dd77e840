-- The attempts of retried executions (page_facts.sql's 'attempt' part), so their costs find their execution.
UNION ALL
SELECT DISTINCT 'attempt' AS Part, TraceId, ExecutionId,
       NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, toUInt64(0), toUInt64(0), toUInt64(0),
       CAST([] AS Array(String)), CAST([] AS Array(String)), CAST([] AS Array(String))
FROM {database}.execlog_attempts
WHERE ExecutionId IN {retried:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
