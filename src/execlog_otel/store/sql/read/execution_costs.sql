-- USD per execution (all attempts) since {cost_since}, in nano-dollars (a whole number keyset cursors can
-- carry, facts/cost_nano.sql): what the listing sorts by and filters on ("cost above"). Each attempt's cost from
-- its rollup rows by the cost rule (facts/usage_cost_usd.sql over the summed parts, as read/attempt_cost_columns.sql
-- gives every listing row its cost), summed over the execution's attempts: the rollups hold an attempt's cost in a
-- few summed columns, where execlog_trace_costs would price every usage row of the range again.
SELECT ExecutionId, {fact.cost_nano} AS CostNano
FROM (
    SELECT a.ExecutionId AS ExecutionId, sum(c.CostUsd) AS CostUsd
    FROM (
        SELECT r.TraceId AS TraceId, {fact.usage_cost_usd} AS CostUsd
        FROM {database}.execlog_trace_rollups AS r
        WHERE r.Start >= fromUnixTimestamp64Nano({cost_since:Int64}) - INTERVAL 1 HOUR
        GROUP BY r.TraceId
    ) AS c
    INNER JOIN (
        SELECT DISTINCT TraceId, ExecutionId FROM {database}.execlog_attempts
        WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64})
    ) AS a ON c.TraceId = a.TraceId
    GROUP BY a.ExecutionId
)
