-- A span's output as text (JSON where the writer wrote JSON), '' when it has none; the counterpart of
-- facts/span_input.sql, in the same order: execlog's; output.value; traceloop.entity.output; a tool
-- call's result; gen_ai.output.messages; the indexed gen_ai.completion.N.* form; a whole-text
-- gen_ai.completion attribute; the content events on the span.
multiIf(
    SpanAttributes[{attr.OUTPUT}] != '', SpanAttributes[{attr.OUTPUT}],
    SpanAttributes[{attr.OUTPUT_VALUE}] != '', SpanAttributes[{attr.OUTPUT_VALUE}],
    SpanAttributes[{attr.TRACELOOP_ENTITY_OUTPUT}] != '', SpanAttributes[{attr.TRACELOOP_ENTITY_OUTPUT}],
    SpanAttributes[{attr.GEN_AI_TOOL_CALL_RESULT}] != '', SpanAttributes[{attr.GEN_AI_TOOL_CALL_RESULT}],
    SpanAttributes[{attr.GEN_AI_OUTPUT_MESSAGES}] != '', SpanAttributes[{attr.GEN_AI_OUTPUT_MESSAGES}],
    {fact.completion_messages} != '', {fact.completion_messages},
    SpanAttributes[{attr.GEN_AI_COMPLETION}] != '', SpanAttributes[{attr.GEN_AI_COMPLETION}],
    Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_CONTENT_COMPLETION_EVENT})][{attr.GEN_AI_COMPLETION}] != '',
        Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_CONTENT_COMPLETION_EVENT})][{attr.GEN_AI_COMPLETION}],
    Events.Attributes[indexOf(Events.Name, {attr.GEN_AI_OPERATION_DETAILS_EVENT})][{attr.GEN_AI_OUTPUT_MESSAGES}])
