-- Input tokens of an execlog_llm_usage row without its cache reads and writes (GenAI counts cached tokens
-- inside the input; an SDK that counts them apart reports fewer input than cached tokens, then its input is
-- already the uncached part).
if(InputTokens >= CacheReadTokens + CacheWriteTokens, toUInt64(InputTokens - CacheReadTokens - CacheWriteTokens),
   InputTokens)
