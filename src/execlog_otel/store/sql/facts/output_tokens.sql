-- A span's own output tokens: current GenAI name, deprecated name, OpenInference (a count past 32 bits reads as 0:
-- facts/input_tokens.sql says why).
toUInt64(toUInt32OrZero(multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_OUTPUT_TOKENS}] != '', SpanAttributes[{attr.GEN_AI_USAGE_OUTPUT_TOKENS}],
    SpanAttributes[{attr.GEN_AI_USAGE_COMPLETION_TOKENS}] != '', SpanAttributes[{attr.GEN_AI_USAGE_COMPLETION_TOKENS}],
    SpanAttributes[{attr.LLM_TOKEN_COUNT_COMPLETION}])))
