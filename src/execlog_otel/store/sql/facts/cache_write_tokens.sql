-- A span's input tokens written to the provider's prompt cache: current GenAI name, OpenInference.
multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS}] != '',
        toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS}]),
    toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_CACHE_WRITE}]))
