-- The model a step called: the response's, else the request's, else OpenInference's.
multiIf(
    SpanAttributes[{attr.GEN_AI_RESPONSE_MODEL}] != '', SpanAttributes[{attr.GEN_AI_RESPONSE_MODEL}],
    SpanAttributes[{attr.GEN_AI_REQUEST_MODEL}] != '', SpanAttributes[{attr.GEN_AI_REQUEST_MODEL}],
    SpanAttributes[{attr.LLM_MODEL_NAME}])
