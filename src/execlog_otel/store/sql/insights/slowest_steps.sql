-- Insights: the steps with the highest p95 duration (ms) in the executions selected (insights/step_rows.sql).
-- The quantiles come from a DDSketch (quantilesDD, relative accuracy 0.5 %): mergeable, so whole days are
-- summarised once; both levels are one aggregate.
SELECT step, runs, round(q[1] / 1e6, 1) AS p50_ms, round(q[2] / 1e6, 1) AS p95_ms
FROM (
    SELECT StepName AS step, sum(Runs) AS runs, quantilesDDMerge({step_duration_quantiles})(Durations) AS q
    FROM ({step_rows})
    GROUP BY step
)
ORDER BY p95_ms DESC, step
LIMIT 10
