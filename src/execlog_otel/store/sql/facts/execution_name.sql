-- An execution's name, from its root span: execlog's, else the GenAI agent's or workflow's, else
-- OpenLLMetry's entity or workflow name, else the span name.
multiIf(
    SpanAttributes[{attr.EXECUTION_NAME}] != '', SpanAttributes[{attr.EXECUTION_NAME}],
    SpanAttributes[{attr.GEN_AI_AGENT_NAME}] != '', SpanAttributes[{attr.GEN_AI_AGENT_NAME}],
    SpanAttributes[{attr.GEN_AI_WORKFLOW_NAME}] != '', SpanAttributes[{attr.GEN_AI_WORKFLOW_NAME}],
    SpanAttributes[{attr.TRACELOOP_ENTITY_NAME}] != '', SpanAttributes[{attr.TRACELOOP_ENTITY_NAME}],
    SpanAttributes[{attr.TRACELOOP_WORKFLOW_NAME}] != '', SpanAttributes[{attr.TRACELOOP_WORKFLOW_NAME}],
    SpanName)
