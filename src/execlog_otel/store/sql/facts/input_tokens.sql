-- A span's own input tokens: current GenAI name, deprecated name, OpenInference. Every token fact reads its count as
-- a whole number below 2^32 (toUInt32OrZero); any other value reads as 0, not reported, as text that is no number
-- does. No call counts 4.29 billion tokens (hundreds of times the largest context window): a larger count is a
-- broken client's, such as -1 sent unsigned (18446744073709551615 showed -1 input tokens and a cost of $2.77
-- trillion, and wrapped the totals). It is dropped rather than clamped, since a clamped count still invents tokens
-- and their cost; and sums of counts so bounded do not overflow (the rollups' Int64 sums).
toUInt64(toUInt32OrZero(multiIf(
    SpanAttributes[{attr.GEN_AI_USAGE_INPUT_TOKENS}] != '', SpanAttributes[{attr.GEN_AI_USAGE_INPUT_TOKENS}],
    SpanAttributes[{attr.GEN_AI_USAGE_PROMPT_TOKENS}] != '', SpanAttributes[{attr.GEN_AI_USAGE_PROMPT_TOKENS}],
    SpanAttributes[{attr.LLM_TOKEN_COUNT_PROMPT}])))
