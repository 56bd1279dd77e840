-- Insights: the steps with the highest p95 duration (ms) in the executions selected (execlog_steps).
SELECT StepName AS step, count() AS runs, round(quantileExact(0.5)(Duration) / 1e6, 1) AS p50_ms,
       round(quantileExact(0.95)(Duration) / 1e6, 1) AS p95_ms
FROM {database}.execlog_steps
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {attempts_filter}
GROUP BY step
ORDER BY p95_ms DESC, step
LIMIT 10
