-- A span's input tokens written to the provider's prompt cache: current GenAI name, OpenInference (a count past 32
-- bits reads as 0: facts/input_tokens.sql says why).
toUInt64(toUInt32OrZero(multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS}] != '',
        SpanAttributes[{attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS}],
    SpanAttributes[{attr.LLM_TOKEN_COUNT_CACHE_WRITE}])))
