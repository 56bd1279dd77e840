-- What a retry needs from the executions' rows (every version: the caller keeps the newest per id).
SELECT ExecutionId, toUnixTimestamp64Nano(Start) AS StartNs, TraceId, Attempt, Name, Kind, Status,
       ServiceName, TriggerFingerprint, RetryUrl, Retryable, NotRetryableReason, Version
FROM {database}.execlog_executions FINAL
WHERE ExecutionId IN {ids:Array(String)}
