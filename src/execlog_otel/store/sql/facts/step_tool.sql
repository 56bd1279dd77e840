-- The tool a step ran: GenAI, else OpenInference, else named by the SDK.
multiIf(
    SpanAttributes[{attr.GEN_AI_TOOL_NAME}] != '', SpanAttributes[{attr.GEN_AI_TOOL_NAME}],
    SpanAttributes[{attr.TOOL_NAME}] != '', SpanAttributes[{attr.TOOL_NAME}],
    SpanAttributes[{attr.TOOL}])
