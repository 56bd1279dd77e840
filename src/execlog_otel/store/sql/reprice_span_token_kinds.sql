-- reprice.sql on execlog_llm_usage, whose rows hold the token counts as the span states them: the token kinds
-- facts/token_cost_usd.sql prices (the sums tables store them as columns of these names).
AND isNotNull(({fact.uncached_input_tokens}) AS UncachedInputTokens)
AND isNotNull(({fact.visible_output_tokens}) AS VisibleOutputTokens)
