-- Cost and tokens of each LLM step (or step with a reported cost) of one trace.
SELECT SpanId, Model, PricedAs, CostUsd, ReportedCostUsd, toUInt64(Unpriced) AS UnpricedSteps,
       UncachedInputTokens AS InputTokens, CacheReadTokens, CacheWriteTokens,
       VisibleOutputTokens AS OutputTokens, ReasoningTokens, TotalTokens
FROM {database}.execlog_llm_costs
WHERE TraceId = {trace_id:String} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR {span_clause}
