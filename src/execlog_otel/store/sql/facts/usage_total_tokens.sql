-- Every token of an execlog_llm_usage row, each kind once: input and output, plus cached and reasoning
-- tokens when the SDK counted them apart. The one rule for "tokens" of a step, attempt, execution and total.
toUInt64(InputTokens + OutputTokens
    + if(InputTokens >= CacheReadTokens + CacheWriteTokens, 0, CacheReadTokens + CacheWriteTokens)
    + if(OutputTokens >= ReasoningTokens, 0, ReasoningTokens))
