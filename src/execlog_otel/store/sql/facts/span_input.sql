-- A span's input as text (JSON where the writer wrote JSON), '' when it has none. One rule for the
-- execution's input (its root span) and each step's, in this order: execlog's; OpenInference's
-- input.value; OpenLLMetry's traceloop.entity.input; a tool call's arguments; the current GenAI
-- gen_ai.input.messages (with gen_ai.system_instructions when both are there); the older indexed
-- gen_ai.prompt.N.* form; a whole-text gen_ai.prompt attribute; the content events on the span
-- (gen_ai.content.prompt's gen_ai.prompt, or the operation-details event's input messages); OpenLIT's
-- @openlit.trace arguments (function.args, else function.kwargs, as Python writes them).
-- Content carried in log records is read by read/log_contents.sql with facts/log_input.sql.
multiIf(
    SpanAttributes[{attr.INPUT}] != '', SpanAttributes[{attr.INPUT}],
    SpanAttributes[{attr.INPUT_VALUE}] != '', SpanAttributes[{attr.INPUT_VALUE}],
    SpanAttributes[{attr.TRACELOOP_ENTITY_INPUT}] != '', SpanAttributes[{attr.TRACELOOP_ENTITY_INPUT}],
    SpanAttributes[{attr.GEN_AI_TOOL_CALL_ARGUMENTS}] != '', SpanAttributes[{attr.GEN_AI_TOOL_CALL_ARGUMENTS}],
    SpanAttributes[{attr.GEN_AI_INPUT_MESSAGES}] != '' AND SpanAttributes[{attr.GEN_AI_SYSTEM_INSTRUCTIONS}] != '',
        concat('{"system_instructions": ', SpanAttributes[{attr.GEN_AI_SYSTEM_INSTRUCTIONS}],
               ', "messages": ', SpanAttributes[{attr.GEN_AI_INPUT_MESSAGES}], '}'),
    SpanAttributes[{attr.GEN_AI_INPUT_MESSAGES}] != '', SpanAttributes[{attr.GEN_AI_INPUT_MESSAGES}],
    SpanAttributes[{attr.GEN_AI_SYSTEM_INSTRUCTIONS}] != '', SpanAttributes[{attr.GEN_AI_SYSTEM_INSTRUCTIONS}],
    {fact.prompt_messages} != '', {fact.prompt_messages},
    SpanAttributes[{attr.GEN_AI_PROMPT}] != '', SpanAttributes[{attr.GEN_AI_PROMPT}],
    Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_CONTENT_PROMPT_EVENT})][{attr.GEN_AI_PROMPT}] != '',
        Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_CONTENT_PROMPT_EVENT})][{attr.GEN_AI_PROMPT}],
    Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_OPERATION_DETAILS_EVENT})][{attr.GEN_AI_INPUT_MESSAGES}] != '',
        Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_OPERATION_DETAILS_EVENT})][{attr.GEN_AI_INPUT_MESSAGES}],
    SpanAttributes[{attr.OPENLIT_FUNCTION_ARGS}] NOT IN ('', '()'), SpanAttributes[{attr.OPENLIT_FUNCTION_ARGS}],
    SpanAttributes[{attr.OPENLIT_FUNCTION_KWARGS}] NOT IN ('', '{}'), SpanAttributes[{attr.OPENLIT_FUNCTION_KWARGS}],
    '')
