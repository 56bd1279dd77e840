-- The total an instrumentation reported (OpenInference); the total is the larger of it and input + output (a count
-- past 32 bits reads as 0: facts/input_tokens.sql says why).
toUInt64(toUInt32OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_TOTAL}]))
