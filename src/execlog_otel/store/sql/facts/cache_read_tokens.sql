-- A span's input tokens read from the provider's prompt cache: current GenAI name, OpenInference.
multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS}] != '',
        toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS}]),
    toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_CACHE_READ}]))
