-- The GenAI output content a log record carries, '' when none: the output messages of an inference's
-- operation-details event, or the body of a gen_ai.choice event (the 2024-2025 event conventions).
multiIf(
    {fact.log_event_name} = {attr.GEN_AI_OPERATION_DETAILS_EVENT}, LogAttributes[{attr.GEN_AI_OUTPUT_MESSAGES}],
    {fact.log_event_name} = {attr.GEN_AI_CHOICE_EVENT}, Body,
    '')
