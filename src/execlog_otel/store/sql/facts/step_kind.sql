-- What a step is: recorded by execlog (a nested execution: its kind), else read from the conventions
-- of the instrumentation that wrote it. A tool: GenAI execute_tool or a span naming gen_ai.tool.name and
-- no operation (a model call naming the tool it asks for stays a model call),
-- OpenInference TOOL, OpenLLMetry tool. A model call: a GenAI inference operation, OpenInference LLM or
-- EMBEDDING, OpenLLMetry's llm.request.type, or a span naming a model and a provider with no operation.
-- An agent or workflow inside the execution: node. The detail page, Download Code and the rollups'
-- transport rule (facts/is_model_call.sql) all read this one rule.
multiIf(
    SpanAttributes[{attr.STEP_KIND}] != '', SpanAttributes[{attr.STEP_KIND}],
    SpanAttributes[{attr.KIND}] != '', SpanAttributes[{attr.KIND}],
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'execute_tool'
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) = 'TOOL'
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = 'tool'
        OR (SpanAttributes[{attr.GEN_AI_TOOL_NAME}] != '' AND SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = ''), 'tool',
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] IN ('chat', 'text_completion', 'generate_content', 'embeddings')
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) IN ('LLM', 'EMBEDDING')
        OR SpanAttributes[{attr.LLM_REQUEST_TYPE}] != ''
        OR (SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = ''
            AND (SpanAttributes[{attr.GEN_AI_SYSTEM}] != '' OR SpanAttributes[{attr.GEN_AI_PROVIDER_NAME}] != '')
            AND (SpanAttributes[{attr.GEN_AI_REQUEST_MODEL}] != ''
                 OR SpanAttributes[{attr.GEN_AI_RESPONSE_MODEL}] != '')), 'llm',
    SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] IN ('invoke_agent', 'invoke_workflow', 'create_agent')
        OR upper(SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}]) IN ('AGENT', 'CHAIN')
        OR SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] IN ('agent', 'workflow', 'task'), 'node',
    'step')
