-- A span's own output tokens: current GenAI name, deprecated name, OpenInference.
multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_OUTPUT_TOKENS}] != '', toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_OUTPUT_TOKENS}]),
    SpanAttributes[{attr.GEN_AI_USAGE_COMPLETION_TOKENS}] != '', toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_COMPLETION_TOKENS}]),
    toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_COMPLETION}]))
