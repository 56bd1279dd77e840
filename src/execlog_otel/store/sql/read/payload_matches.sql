-- The executions any span of which (the root or a step, any attempt) has the text {q} in its input or
-- output, as the detail page shows them (the span facts' Input and Output: facts/span_input.sql and
-- facts/span_output.sql, every dialect's), among the spans started between {p_from} and {p_to}. The stored
-- facts are scanned (two text columns instead of every span's attribute map: 7 days of 9.7 M spans in
-- ≈ 150 ms instead of ≈ 490 ms) and their traces matched to executions by the attempts, as costs are.
-- {limit}: '' inside the listing's condition, LIMIT n when the ids are read to be bound.
SELECT DISTINCT ExecutionId
FROM {database}.execlog_attempts
WHERE TraceId IN (
    SELECT TraceId
    FROM {database}.execlog_span_facts
    WHERE Start >= fromUnixTimestamp64Nano({p_from:Int64}) AND Start <= fromUnixTimestamp64Nano({p_to:Int64})
      AND (positionCaseInsensitiveUTF8(Input, {q:String}) > 0 OR positionCaseInsensitiveUTF8(Output, {q:String}) > 0))
{limit}
