-- A step's status: recorded by execlog for the step (or, for a nested execution, its status), else
-- Failed when the span's status is Error, else Success. The rollups count failed and skipped steps
-- with it and the detail page shows it, so the two always agree.
multiIf(
    SpanAttributes[{attr.STEP_STATUS}] != '', SpanAttributes[{attr.STEP_STATUS}],
    SpanAttributes[{attr.STATUS}] != '', SpanAttributes[{attr.STATUS}],
    {fact.span_failed}, 'Failed',
    'Success')
