-- Every project ({scope}: the caller's) with its executions and failures started in the last 24 h and 7 days
-- (newest state), and the cost of their LLM steps over the same periods (execlog_llm_costs through the
-- attempts' projects; NULL: nothing priced). Projects with no execution in the 7 days are listed too.
WITH
    fromUnixTimestamp64Nano({now:Int64}) AS now_ts,
    ex AS (
        SELECT Project,
               countIf(Start >= now_ts - INTERVAL 1 DAY) AS Executions24h,
               countIf(Start >= now_ts - INTERVAL 1 DAY AND {fact.failed_execution}) AS Failed24h,
               countIf(Start >= now_ts - INTERVAL 7 DAY) AS Executions7d,
               countIf(Start >= now_ts - INTERVAL 7 DAY AND {fact.failed_execution}) AS Failed7d
        FROM {database}.execlog_executions FINAL
        WHERE Start >= now_ts - INTERVAL 7 DAY {scope}
        GROUP BY Project
    ),
    seen AS (
        SELECT Project, toUnixTimestamp64Nano(max(Start)) AS LastNs
        FROM {database}.execlog_attempts
        WHERE 1 {scope}
        GROUP BY Project
    ),
    cost AS (
        SELECT a.Project AS Project,
               sumIf(c.CostUsd, c.Start >= now_ts - INTERVAL 1 DAY) AS Cost24h,
               sum(c.CostUsd) AS Cost7d,
               countIf(c.CostUsd IS NOT NULL AND c.Start >= now_ts - INTERVAL 1 DAY) AS Priced24h,
               countIf(c.CostUsd IS NOT NULL) AS Priced7d
        FROM {database}.execlog_llm_costs AS c
        INNER JOIN (
            SELECT DISTINCT TraceId, Project FROM {database}.execlog_attempts
            WHERE Start >= now_ts - INTERVAL 7 DAY {scope}
        ) AS a ON c.TraceId = a.TraceId
        WHERE c.Start >= now_ts - INTERVAL 7 DAY
        GROUP BY a.Project
    )
SELECT seen.Project AS Project, LastNs,
       ifNull(ex.Executions24h, 0) AS Executions24h, ifNull(ex.Failed24h, 0) AS Failed24h,
       ifNull(ex.Executions7d, 0) AS Executions7d, ifNull(ex.Failed7d, 0) AS Failed7d,
       if(ifNull(cost.Priced24h, 0) = 0, NULL, cost.Cost24h) AS Cost24h,
       if(ifNull(cost.Priced7d, 0) = 0, NULL, cost.Cost7d) AS Cost7d
FROM seen
LEFT JOIN ex ON ex.Project = seen.Project
LEFT JOIN cost ON cost.Project = seen.Project
ORDER BY Project
SETTINGS join_use_nulls = 1
