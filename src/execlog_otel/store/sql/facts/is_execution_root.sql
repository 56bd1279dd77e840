-- A root span that starts an execution. A trace whose root is a lone HTTP request of an HTTP client
-- instrumentation (facts/is_http_client.sql: an SDK's background fetch, a health check) is not an
-- execution: it stays in otel_traces for Grafana, and is not listed.
ParentSpanId = '' AND NOT ({fact.is_http_client})
