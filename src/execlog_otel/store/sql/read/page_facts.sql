-- What the listing shows of the executions of a page besides their own rows, in one read by key of
-- execlog_trace_rollups: per attempt, its steps, failures, models, tools and connectors, and its tokens and cost
-- (the sums rollup_costs_select.sql keeps of the priced usage rows, to which attempt_cost_columns.sql applies
-- the cost rule; HasUsage: the attempt had LLM steps or reported costs, else it has no cost row).
-- {traces}: the latest attempt of each execution, and every attempt of the executions with earlier ones
-- (read/earlier_attempts.sql, only when there are any). No step of an attempt starts before its
-- execution ({since}, less an hour of clock skew) nor, once every latest attempt has ended, an hour after the
-- last end ({until}, else far in the future), which bounds the day partitions read; in those, the trace-id
-- bloom filter (migration 038) leaves the granules that hold the traces, which are then read whole: filtering
-- them first on the trace id (the PREWHERE ClickHouse would choose) costs more than it saves, so the PREWHERE
-- is the start instead (in-process at 1 M spans, random 24-hour ranges: 14.7 ms without the index, 13.8 ms
-- with it and the trace ids first, 8.3–9.4 ms with the start first; the default page 6.8, 6.6, 6.1–7.0 ms).
SELECT r.TraceId AS TraceId,
       sum(r.Steps) AS Steps, sum(r.FailedSteps) AS FailedSteps, sum(r.SkippedSteps) AS SkippedSteps,
       groupUniqArrayArray(r.Models) AS Models, groupUniqArrayArray(r.Tools) AS Tools,
       groupUniqArrayArray(r.Connectors) AS Connectors,
       {attempt_cost_columns},
       sum(r.CostSteps) + sum(r.UnpricedSteps) > 0 AS HasUsage
FROM {database}.execlog_trace_rollups AS r
PREWHERE r.Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
        AND r.Start <= fromUnixTimestamp64Nano({until:Int64}) + INTERVAL 1 HOUR
WHERE r.TraceId IN {traces:Array(String)}
GROUP BY r.TraceId
SETTINGS prefer_column_name_to_alias = 1
