-- Bring the cost and usage sums of execlog_trace_rollups to what execlog_trace_usage's rows give
-- (rollup_costs_select.sql): one signed row per attempt whose sums differ, the difference. Run after the usage
-- rows were priced again (schema.reprice_statements) and after migrations (the rows stored before 037, or a
-- rollup derived again from the spans), it is idempotent: run twice, the second inserts nothing. Costs are
-- floats summed in another order, so differences below a billionth of a cent are not differences.
INSERT INTO {database}.execlog_trace_rollups (TraceId, Start, End, PricedCostUsd, UnpricedReportedUsd, CostSteps,
    UnpricedSteps, ReportedCostUsd, UncachedInputTokens, CacheReadTokens, CacheWriteTokens, VisibleOutputTokens,
    ReasoningTokens, UsageTotalTokens, UsageInputTokens, UsageOutputTokens)
SELECT TraceId, min(Start), min(Start), sum(PricedCostUsd) AS PricedCost, sum(UnpricedReportedUsd) AS UnpricedReported,
       sum(CostSteps) AS StepsWithCost, sum(UnpricedSteps) AS StepsWithoutPrice, sum(ReportedCostUsd) AS Reported,
       sum(UncachedInputTokens) AS Uncached, sum(CacheReadTokens) AS CacheRead, sum(CacheWriteTokens) AS CacheWrite,
       sum(VisibleOutputTokens) AS Visible, sum(ReasoningTokens) AS Reasoning, sum(UsageTotalTokens) AS Total,
       sum(UsageInputTokens) AS StatedInput, sum(UsageOutputTokens) AS StatedOutput
FROM (
    {rollup_costs_select}
    UNION ALL
    SELECT TraceId, Start, End, -PricedCostUsd, -UnpricedReportedUsd, -CostSteps, -UnpricedSteps, -ReportedCostUsd,
           -UncachedInputTokens, -CacheReadTokens, -CacheWriteTokens, -VisibleOutputTokens, -ReasoningTokens,
           -UsageTotalTokens, -UsageInputTokens, -UsageOutputTokens
    FROM {database}.execlog_trace_rollups
)
GROUP BY TraceId
HAVING abs(PricedCost) > 1e-14 OR abs(UnpricedReported) > 1e-14 OR abs(Reported) > 1e-14
    OR (StepsWithCost, StepsWithoutPrice, Uncached, CacheRead, CacheWrite, Visible, Reasoning, Total, StatedInput,
        StatedOutput) != (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
SETTINGS max_partitions_per_insert_block = 0
