-- What an execution is, from its root span: recorded by execlog, else an agent (GenAI invoke_agent or
-- a root naming gen_ai.agent.name, OpenInference AGENT, OpenLLMetry agent), else an automation (GenAI
-- invoke_workflow, OpenInference CHAIN, OpenLLMetry workflow), else other.
multiIf(
    SpanAttributes[{attr.KIND}] != '', SpanAttributes[{attr.KIND}],
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'invoke_agent'
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) = 'AGENT'
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = 'agent'
        OR (SpanAttributes[{attr.GEN_AI_AGENT_NAME}] != ''
            AND SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] NOT IN ('invoke_workflow', 'execute_tool')), 'agent',
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'invoke_workflow'
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) = 'CHAIN'
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = 'workflow', 'automation',
    'other')
