-- An HTTP request made by an HTTP client instrumentation (requests, httpx, urllib3, aiohttp ...): a client
-- span with an HTTP method and nothing from execlog or the GenAI conventions on it.
{fact.span_kind} = 'Client'
    AND (SpanAttributes[{attr.HTTP_REQUEST_METHOD}] != '' OR SpanAttributes[{attr.HTTP_METHOD}] != '')
    AND SpanAttributes[{attr.CONNECTOR}] = '' AND SpanAttributes[{attr.STEP_KIND}] = ''
    AND SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] = '' AND SpanAttributes[{attr.GEN_AI_SYSTEM}] = ''
    AND SpanAttributes[{attr.GEN_AI_PROVIDER_NAME}] = ''
