-- Per attempt (trace), its cost and usage for execlog_trace_rollups, from the per-attempt-and-model rows of
-- execlog_trace_usage: the parts of facts/usage_cost_usd.sql summed over models (steps with a cost, priced
-- and unpriced USD, steps with no price) and the token kinds, so the listing reads an execution's steps and
-- its cost in one read by key. Fed by execlog_trace_rollup_costs_mv as usage rows arrive; the sums are signed,
-- so that rollup_costs_reconcile.sql can bring them back to the usage rows' after those are priced again.
-- End is the first LLM step's start: never past the trace's last end, which the spans' own rollup rows give
-- (End is a max).
SELECT
    TraceId, min(Start) AS Start, Start AS End,
    sum(PricedCost) AS PricedCostUsd, sum(UnpricedReported) AS UnpricedReportedUsd,
    sum(StepsWithCost) AS CostSteps, sum(StepsWithoutPrice) AS UnpricedSteps,
    sum(Reported) AS ReportedCostUsd,
    sum(Uncached) AS UncachedInputTokens, sum(CacheRead) AS CacheReadTokens, sum(CacheWrite) AS CacheWriteTokens,
    sum(Visible) AS VisibleOutputTokens, sum(Reasoning) AS ReasoningTokens, sum(Total) AS UsageTotalTokens,
    sum(StatedInput) AS UsageInputTokens, sum(StatedOutput) AS UsageOutputTokens
FROM (
    SELECT TraceId, Start,
           {fact.priced_cost_usd} AS PricedCost, {fact.unpriced_reported_usd} AS UnpricedReported,
           {fact.cost_steps} AS StepsWithCost, toInt64({fact.unpriced_steps}) AS StepsWithoutPrice,
           ReportedCostUsd AS Reported,
           toInt64(UncachedInputTokens) AS Uncached, toInt64(CacheReadTokens) AS CacheRead,
           toInt64(CacheWriteTokens) AS CacheWrite, toInt64(VisibleOutputTokens) AS Visible,
           toInt64(ReasoningTokens) AS Reasoning, toInt64(TotalTokens) AS Total,
           toInt64(InputTokens) AS StatedInput, toInt64(OutputTokens) AS StatedOutput
    FROM {database}.execlog_trace_usage
)
GROUP BY TraceId
