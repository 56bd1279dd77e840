-- Insights: the steps that failed most often in the executions selected (insights/step_rows.sql).
SELECT StepName AS step, sum(Runs) AS runs, sum(Failures) AS failures
FROM ({step_rows})
GROUP BY step
HAVING failures > 0
ORDER BY failures DESC, step
LIMIT 10
