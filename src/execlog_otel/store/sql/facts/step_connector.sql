-- The connector a step used: named by the SDK, else the system a client or producer span of another
-- instrumentation called (database, messaging system, RPC service, host), so "Connectors Used" needs
-- no code; model calls are not connectors.
multiIf(
    SpanAttributes[{attr.CONNECTOR}] != '', SpanAttributes[{attr.CONNECTOR}],
    {fact.span_kind} NOT IN ('Client', 'Producer')
        OR SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] != '' OR SpanAttributes[{attr.GEN_AI_SYSTEM}] != ''
        OR SpanAttributes[{attr.GEN_AI_PROVIDER_NAME}] != '' OR SpanAttributes[{attr.LLM_MODEL_NAME}] != '', '',
    SpanAttributes[{attr.DB_SYSTEM_NAME}] != '', SpanAttributes[{attr.DB_SYSTEM_NAME}],
    SpanAttributes[{attr.DB_SYSTEM}] != '', SpanAttributes[{attr.DB_SYSTEM}],
    SpanAttributes[{attr.MESSAGING_SYSTEM}] != '', SpanAttributes[{attr.MESSAGING_SYSTEM}],
    SpanAttributes[{attr.RPC_SERVICE}] != '', SpanAttributes[{attr.RPC_SERVICE}],
    SpanAttributes[{attr.SERVER_ADDRESS}] != '', SpanAttributes[{attr.SERVER_ADDRESS}],
    SpanAttributes[{attr.NET_PEER_NAME}])
