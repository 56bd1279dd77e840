-- An execlog_llm_usage row that counted tokens (without a price for its model it has "no price").
InputTokens + OutputTokens + CacheReadTokens + CacheWriteTokens + ReasoningTokens > 0
