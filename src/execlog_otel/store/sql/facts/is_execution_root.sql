-- A root span that starts an execution. A trace whose root is a lone HTTP request of an HTTP client
-- instrumentation (facts/is_http_client.sql: an SDK's background fetch, a health check) is not an
-- execution: it stays in otel_traces for Grafana, and is not listed. Nor is a root whose GenAI operation is
-- create_agent (without execlog.kind): in the conventions it creates an agent, it does not run one (OpenLIT sends
-- one, "create_agent default", for every LangGraph graph.compile()).
ParentSpanId = '' AND NOT ({fact.is_http_client})
    AND NOT (SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = 'create_agent' AND SpanAttributes[{attr.KIND}] = '')
