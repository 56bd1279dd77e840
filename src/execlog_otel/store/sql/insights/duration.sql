-- Insights: p50 and p95 duration (latest attempt, ms) of finished executions started per interval.
SELECT formatDateTime(toStartOfInterval(toDateTime(Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, count() AS executions,
       round(quantileExact(0.5)(DurationMs), 1) AS p50_ms, round(quantileExact(0.95)(DurationMs), 1) AS p95_ms
FROM (
    SELECT Start, (toUnixTimestamp64Nano(AttemptEnd) - toUnixTimestamp64Nano(AttemptStart)) / 1e6 AS DurationMs
    FROM {database}.execlog_executions FINAL
    WHERE {executions_filter} AND AttemptEnd > toDateTime64(0, 9)
)
GROUP BY bucket
ORDER BY bucket
