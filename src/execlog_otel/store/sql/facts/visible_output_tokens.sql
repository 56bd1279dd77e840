-- Output tokens of an execlog_llm_usage row without its reasoning tokens (counted inside the output by
-- GenAI; an SDK that counts them apart reports fewer output than reasoning tokens).
if(OutputTokens >= ReasoningTokens, toUInt64(OutputTokens - ReasoningTokens), OutputTokens)
