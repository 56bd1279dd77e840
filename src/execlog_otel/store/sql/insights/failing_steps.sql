-- Insights: the steps that failed most often in the executions selected.
SELECT {fact.step_name} AS step, count() AS runs, countIf({fact.step_status} = 'Failed') AS failures
FROM {database}.otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({from_ns:Int64}) AND {fact.is_step} AND {attempts_filter}
GROUP BY step
HAVING failures > 0
ORDER BY failures DESC, step
LIMIT 10
