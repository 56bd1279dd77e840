-- A span's own input tokens: current GenAI name, deprecated name, OpenInference.
multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_INPUT_TOKENS}] != '', toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_INPUT_TOKENS}]),
    SpanAttributes[{attr.GEN_AI_USAGE_PROMPT_TOKENS}] != '', toUInt64OrZero(SpanAttributes[{attr.GEN_AI_USAGE_PROMPT_TOKENS}]),
    toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_PROMPT}]))
