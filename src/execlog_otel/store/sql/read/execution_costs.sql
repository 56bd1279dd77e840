-- USD per execution (all attempts) since {cost_since}, in nano-dollars (a whole number keyset cursors can
-- carry): what the listing sorts by and filters on ("cost above"). Prices: execlog_trace_costs.
SELECT a.ExecutionId AS ExecutionId, toInt64(round(ifNull(sum(c.CostUsd), 0) * 1000000000)) AS CostNano
FROM {database}.execlog_trace_costs AS c
INNER JOIN (
    SELECT DISTINCT TraceId, ExecutionId FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({cost_since:Int64})
) AS a ON c.TraceId = a.TraceId
GROUP BY a.ExecutionId
