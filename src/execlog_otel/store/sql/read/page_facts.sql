-- What the listing shows of the executions of a page besides their own rows, in one read by key of
-- execlog_trace_rollups: per attempt, its steps, failures, models, tools and connectors, and its tokens and cost
-- (the sums rollup_costs_select.sql keeps of the priced usage rows, to which attempt_cost_columns.sql applies
-- the cost rule; HasUsage: the attempt had LLM steps or reported costs, else it has no cost row).
-- {attempt_traces}: the latest attempt of each execution, and every attempt of the executions with earlier
-- ones (retried_attempt_traces.sql, only when there are any). No step of an attempt starts before its
-- execution ({since}, less an hour of clock skew), which bounds the day partitions read.
SELECT r.TraceId AS TraceId,
       sum(r.Steps) AS Steps, sum(r.FailedSteps) AS FailedSteps, sum(r.SkippedSteps) AS SkippedSteps,
       groupUniqArrayArray(r.Models) AS Models, groupUniqArrayArray(r.Tools) AS Tools,
       groupUniqArrayArray(r.Connectors) AS Connectors,
       {attempt_cost_columns},
       sum(r.CostSteps) + sum(r.UnpricedSteps) > 0 AS HasUsage
FROM {database}.execlog_trace_rollups AS r
WHERE r.Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR AND ({attempt_traces})
GROUP BY r.TraceId
SETTINGS prefer_column_name_to_alias = 1
