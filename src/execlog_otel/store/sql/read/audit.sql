-- Retry audit rows, newest first ({where}: one execution and/or the caller's projects).
SELECT toUnixTimestamp64Nano(toDateTime64(Time, 9)) AS TimeNs, ExecutionId, Project, Actor, ActorKind, Address,
       Mode, Accepted, Code, Reason, Attempt
FROM {database}.execlog_retry_audit
{where}
ORDER BY Time DESC
LIMIT {limit:UInt32}
