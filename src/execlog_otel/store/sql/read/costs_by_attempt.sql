-- Cost and tokens of every attempt of the given executions (an execution's cost is their sum), from
-- execlog_llm_costs, the one place prices are applied.
SELECT a.ExecutionId AS ExecutionId, c.TraceId AS TraceId,
       sum(c.CostUsd) AS CostUsd, toUInt64(countIf(c.Unpriced)) AS UnpricedSteps,
       sum(c.ReportedCostUsd) AS ReportedCostUsd,
       sum(c.UncachedInputTokens) AS InputTokens, sum(c.CacheReadTokens) AS CacheReadTokens,
       sum(c.CacheWriteTokens) AS CacheWriteTokens, sum(c.VisibleOutputTokens) AS OutputTokens,
       sum(c.ReasoningTokens) AS ReasoningTokens, sum(c.TotalTokens) AS TotalTokens
FROM {database}.execlog_llm_costs AS c
INNER JOIN (
    SELECT DISTINCT TraceId, ExecutionId FROM {database}.execlog_attempts
    WHERE ExecutionId IN {ids:Array(String)} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
) AS a ON c.TraceId = a.TraceId
WHERE c.Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR
GROUP BY ExecutionId, TraceId
