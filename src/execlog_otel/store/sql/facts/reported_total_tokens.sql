-- The total an instrumentation reported (OpenInference); the total is the larger of it and input + output.
toUInt64OrZero(SpanAttributes[{attr.LLM_TOKEN_COUNT_TOTAL}])
