-- Insights: the steps with the highest p95 duration (ms) in the executions selected (execlog_steps).
-- Both quantiles are one aggregate (ClickHouse computes an expression written twice once): one sort of the
-- durations per step, not two.
SELECT StepName AS step, count() AS runs, round(quantilesExact(0.5, 0.95)(Duration)[1] / 1e6, 1) AS p50_ms,
       round(quantilesExact(0.5, 0.95)(Duration)[2] / 1e6, 1) AS p95_ms
FROM {database}.execlog_steps
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {attempts_filter}
GROUP BY step
ORDER BY p95_ms DESC, step
LIMIT 10
