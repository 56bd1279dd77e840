-- Insights: the steps that failed most often in the executions selected (execlog_steps).
SELECT StepName AS step, count() AS runs, sum(Failed) AS failures
FROM {database}.execlog_steps
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {attempts_filter}
GROUP BY step
HAVING failures > 0
ORDER BY failures DESC, step
LIMIT 10
