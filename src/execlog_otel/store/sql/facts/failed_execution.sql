-- An execution (a row of execlog_executions: its Status) that failed: Failed, or Rejected before it ran (the
-- listing's "failed" count, the failure rate and the most failing agents and automations; semconv.FAILED_STATUSES
-- for the SDK's own records).
Status IN ('Failed', 'Rejected')
