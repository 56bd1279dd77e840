-- What an execution is, from its root span: recorded by execlog, else an agent (GenAI invoke_agent,
-- OpenInference AGENT, OpenLLMetry agent, or a root that is no model call or tool but names
-- gen_ai.agent.name or carries GenAI messages, as OpenLIT's @openlit.trace roots do), else an automation (GenAI
-- invoke_workflow, OpenInference CHAIN, OpenLLMetry workflow), else other. An @openlit.trace root whose function
-- raised carries no attribute at all (OpenLIT sets them after it returns): it is known by its instrumentation
-- scope, "openlit" itself (its instrumentations' spans are "openlit.instrumentation.*"), and its client span kind
-- (as openlit.start_trace's), so a failed run is an agent as its successful runs are.
multiIf(
    SpanAttributes[{attr.KIND}] != '', SpanAttributes[{attr.KIND}],
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'invoke_agent'
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) = 'AGENT'
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = 'agent'
        OR (SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] NOT IN ('invoke_workflow', 'execute_tool', 'chat',
                'text_completion', 'generate_content', 'embeddings')
            AND (SpanAttributes[{attr.GEN_AI_AGENT_NAME}] != '' OR SpanAttributes[{attr.GEN_AI_INPUT_MESSAGES}] != ''
                 OR SpanAttributes[{attr.GEN_AI_OUTPUT_MESSAGES}] != ''))
        OR (ScopeName = {attr.OPENLIT_TRACE_SCOPE} AND {fact.span_kind} = 'Client'
            AND SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = ''), 'agent',
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'invoke_workflow'
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) = 'CHAIN'
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = 'workflow', 'automation',
    'other')
