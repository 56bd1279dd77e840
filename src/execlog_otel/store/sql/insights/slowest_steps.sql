-- Insights: the steps with the highest p95 duration (ms) in the executions selected.
SELECT {fact.step_name} AS step, count() AS runs, round(quantileExact(0.5)(Duration) / 1e6, 1) AS p50_ms,
       round(quantileExact(0.95)(Duration) / 1e6, 1) AS p95_ms
FROM {database}.otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {fact.is_step} AND {attempts_filter}
GROUP BY step
ORDER BY p95_ms DESC, step
LIMIT 10
