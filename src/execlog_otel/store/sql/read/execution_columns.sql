-- The columns of an execution as the read model takes them (store/records.py), from execlog_executions.
ExecutionId, toUnixTimestamp64Nano(Start) AS StartNs, TraceId,
toUnixTimestamp64Nano(AttemptStart) AS AttemptStartNs, toUnixTimestamp64Nano(AttemptEnd) AS AttemptEndNs,
Attempt, Name, Kind, Status, StatusMessage, ServiceName, Project, Event, Target, TargetRecordId, RequestId,
TriggeredBy, TriggerFingerprint, RetryTarget, RetryUrl, Retryable, NotRetryableReason, Version,
greatest({duration_ns}, 0) AS DurationNs
