-- Every agent / automation name with its execution count and latest start (the scope picker).
-- No FINAL: uniqExact over ExecutionId is exact without collapsing replaced rows.
SELECT Name, Kind, uniqExact(ExecutionId) AS Executions, toUnixTimestamp64Nano(max(Start)) AS LastNs
FROM {database}.execlog_executions
{where}
GROUP BY Name, Kind
ORDER BY Name, Kind
LIMIT {limit:UInt32}
