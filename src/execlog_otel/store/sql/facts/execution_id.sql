-- The execution a root span belongs to: the first attempt's trace id (a retry names it).
if(SpanAttributes[{attr.RETRY_OF}] != '', SpanAttributes[{attr.RETRY_OF}], TraceId)
