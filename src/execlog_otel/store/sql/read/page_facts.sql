-- What the listing shows of the executions of a page besides their own rows, in one read by key: three
-- parts run side by side (UNION ALL), each row tagged with its Part:
--   'cost'    tokens and cost per attempt (the stored usage rows priced by execlog_trace_costs' rules:
--             attempt_cost_columns.sql; an execution's are the sum over its attempts, the one rule for both);
--   'rollup'  the latest attempt's steps, failures, models, tools and connectors (execlog_trace_rollups);
--   'attempt' the earlier attempts of retried executions, so their costs find their execution.
-- {traces}: the latest attempt of each execution; {retried}: the executions with earlier attempts, whose
-- attempts {cost_traces} and {earlier_attempts} read only when there are any (read/earlier_attempts.sql). No
-- step of an attempt starts before its execution ({since}, less an hour of clock skew), which bounds the
-- day partitions read.
SELECT 'cost' AS Part, c.TraceId AS TraceId, '' AS ExecutionId, {attempt_cost_columns},
       toUInt64(0) AS Steps, toUInt64(0) AS FailedSteps, toUInt64(0) AS SkippedSteps,
       CAST([] AS Array(String)) AS Models, CAST([] AS Array(String)) AS Tools,
       CAST([] AS Array(String)) AS Connectors
FROM {database}.execlog_trace_usage AS c
WHERE c.Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR AND ({cost_traces})
GROUP BY c.TraceId
UNION ALL
SELECT 'rollup' AS Part, TraceId, '' AS ExecutionId,
       NULL AS CostUsd, 0 AS UnpricedSteps, 0 AS ReportedCostUsd, 0 AS InputTokens, 0 AS CacheReadTokens,
       0 AS CacheWriteTokens, 0 AS OutputTokens, 0 AS ReasoningTokens, 0 AS TotalTokens,
       0 AS StatedInputTokens, 0 AS StatedOutputTokens,
       sum(Steps) AS Steps, sum(FailedSteps) AS FailedSteps, sum(SkippedSteps) AS SkippedSteps,
       groupUniqArrayArray(Models) AS Models, groupUniqArrayArray(Tools) AS Tools,
       groupUniqArrayArray(Connectors) AS Connectors
FROM {database}.execlog_trace_rollups
WHERE TraceId IN {traces:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
GROUP BY TraceId
{earlier_attempts}
SETTINGS prefer_column_name_to_alias = 1
