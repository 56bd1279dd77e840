-- The attempt a root span records (1 when it says nothing).
greatest(toUInt16OrZero(SpanAttributes[{attr.ATTEMPT}]), 1)
