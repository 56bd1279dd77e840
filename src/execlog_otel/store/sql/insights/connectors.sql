-- Insights: the connectors used in the most runs (attempts) of the executions selected (insights/tool_runs.sql).
SELECT Value AS connector, sum(Runs) AS runs
FROM ({tool_runs})
GROUP BY connector
ORDER BY runs DESC, connector
LIMIT 10
