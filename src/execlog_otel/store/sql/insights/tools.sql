-- Insights: the tools used in the most runs (attempts) of the executions selected (insights/tool_runs.sql).
SELECT Value AS tool, sum(Runs) AS runs
FROM ({tool_runs})
GROUP BY tool
ORDER BY runs DESC, tool
LIMIT 10
