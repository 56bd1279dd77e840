-- (start, id) of the executions any row of which matches a search, at most {max_matches} + 1.
SELECT DISTINCT toUnixTimestamp64Nano(Start), ExecutionId
FROM {database}.execlog_executions
{where}
LIMIT {max_matches_plus_one}
