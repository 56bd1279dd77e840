-- An execution attempt's status from its root span (or a state marker): recorded by execlog, else
-- Failed when the span's status is Error, else Success. The one definition: execlog_executions,
-- the attempts of the detail page and the retry rules all read it.
multiIf(
    SpanAttributes[{attr.STATUS}] != '', SpanAttributes[{attr.STATUS}],
    {fact.span_failed}, 'Failed',
    'Success')
