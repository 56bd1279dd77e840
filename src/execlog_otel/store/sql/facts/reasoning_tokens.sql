-- A span's output tokens spent on reasoning: current GenAI name, OpenInference.
multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS}] != '',
        toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS}]),
    toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_REASONING}]))
