-- The GenAI input content a log record carries, '' when none: the input messages of an inference's
-- operation-details event (current conventions), or the body of one per-message event (gen_ai.user.message,
-- gen_ai.system.message, gen_ai.assistant.message, gen_ai.tool.message: the 2024-2025 event conventions).
-- The detail page fills a step's input with it when the span itself carries none (facts/span_input.sql).
multiIf(
    {fact.log_event_name} = {attr.GEN_AI_OPERATION_DETAILS_EVENT}, LogAttributes[{attr.GEN_AI_INPUT_MESSAGES}],
    {fact.log_event_name} IN ({attr.GEN_AI_USER_MESSAGE_EVENT}, {attr.GEN_AI_SYSTEM_MESSAGE_EVENT},
                              {attr.GEN_AI_ASSISTANT_MESSAGE_EVENT}, {attr.GEN_AI_TOOL_MESSAGE_EVENT}), Body,
    '')
