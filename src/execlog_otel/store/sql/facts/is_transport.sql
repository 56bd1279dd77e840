-- An HTTP request that carries a model call (an HTTP client span whose parent span is a model call): it
-- belongs to that call, so it is not a step and its host is not a connector. The statement embedding this
-- fact provides ParentIsModelCall (1 when the parent span, in the same trace, is facts/is_model_call.sql).
{fact.is_http_client} AND ParentIsModelCall = 1
