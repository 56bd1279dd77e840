-- Insights: failed (Failed, Rejected) share of the finished executions started per interval.
SELECT formatDateTime(toStartOfInterval(toDateTime(Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket,
       countIf({fact.failed_execution}) AS failed,
       countIf(Status NOT IN ('Running', 'Queued', 'Pending', 'Paused')) AS finished,
       if(finished = 0, NULL, round(failed / finished, 4)) AS failure_rate
FROM {database}.execlog_executions FINAL
WHERE {executions_filter}
GROUP BY bucket
ORDER BY bucket
