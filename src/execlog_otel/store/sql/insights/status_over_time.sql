-- Insights: executions started per interval, by their current status.
SELECT formatDateTime(toStartOfInterval(toDateTime(Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Status AS status,
       count() AS executions
FROM {database}.execlog_executions FINAL
WHERE {executions_filter}
GROUP BY bucket, status
ORDER BY bucket, status
