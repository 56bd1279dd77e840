-- Cost and tokens of each LLM step (or step with a reported cost) of one trace: execlog_llm_costs' columns
-- (llm_costs_select.sql), by the same facts, read from the stored rows themselves (planning the view's
-- statement cost more than reading a big execution's rows: 23 against 17 ms for 378 steps). InputTokens and
-- OutputTokens name the parts priced apart, as costs.from_row takes them; the rule for all tokens reads the stored
-- columns of those names, which the aliases would shadow without prefer_column_name_to_alias.
SELECT SpanId, Model, PricedAs, {fact.step_cost_usd} AS CostUsd, ReportedCostUsd,
       toUInt64({fact.step_unpriced}) AS UnpricedSteps,
       {fact.uncached_input_tokens} AS InputTokens, CacheReadTokens, CacheWriteTokens,
       {fact.visible_output_tokens} AS OutputTokens, ReasoningTokens, {fact.usage_total_tokens} AS TotalTokens
FROM (SELECT * EXCEPT (TokenCostUsd), TokenCostUsd AS StoredTokenCostUsd FROM {database}.execlog_llm_usage)
WHERE TraceId = {trace_id:String} AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR {span_clause}
SETTINGS prefer_column_name_to_alias = 1
