-- What the runner reported a span cost, in USD (execlog.cost.usd), NULL when it reported none. Only a finite amount
-- from 0 to a billion dollars counts; "inf", "nan", a negative amount or a larger one (a misuse of attributes=, a
-- broken client) reads as not reported: one span's "inf" made every sum over it infinite (the cost listing of every
-- user answered 500) and a negative one lowered the totals. No step costs a billion dollars, and with the bound
-- the sums of reported costs stay finite.
if(toFloat64OrZero(SpanAttributes[{attr.COST_USD}]) BETWEEN 0 AND 1000000000,
   toFloat64OrNull(nullIf(SpanAttributes[{attr.COST_USD}], '')), NULL)
