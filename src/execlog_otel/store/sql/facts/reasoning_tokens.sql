-- A span's output tokens spent on reasoning: current GenAI name, the name traceloop-sdk (semconv_ai) and OpenLIT's
-- Responses API path write, OpenInference (a count past 32 bits reads as 0: facts/input_tokens.sql says why).
toUInt64(toUInt32OrZero(multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS}] != '',
        SpanAttributes[{attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS}],
    SpanAttributes[{attr.GEN_AI_USAGE_REASONING_TOKENS}] != '', SpanAttributes[{attr.GEN_AI_USAGE_REASONING_TOKENS}],
    SpanAttributes[{attr.LLM_TOKEN_COUNT_REASONING}])))
