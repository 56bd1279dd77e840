-- A root span that starts an execution. A trace whose root is a lone outgoing call of an instrumentation
-- library (an SDK's background HTTP request, a health-check query: a client or producer span with no
-- execlog, GenAI, OpenInference or OpenLLMetry attribute) is not an execution: it stays in otel_traces
-- for Grafana, and is not listed.
ParentSpanId = ''
    AND NOT ({fact.span_kind} IN ('Client', 'Producer')
             AND SpanAttributes[{attr.KIND}] = '' AND SpanAttributes[{attr.EXECUTION_NAME}] = ''
             AND SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = '' AND SpanAttributes[{attr.GEN_AI_SYSTEM}] = ''
             AND SpanAttributes[{attr.GEN_AI_PROVIDER_NAME}] = ''
             AND SpanAttributes[{attr.OPENINFERENCE_SPAN_KIND}] = ''
             AND SpanAttributes[{attr.TRACELOOP_SPAN_KIND}] = '')
