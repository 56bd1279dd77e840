-- Attempt traces of the executions the listing's filters select (per-span facts: costs, steps,
-- tools; insights/attempts_conditions.sql). Matched by a 64-bit hash of the trace id: at 10 M spans, probing a
-- set of half a million hashes instead of the ids takes a third off the charts of one kind (failing steps
-- 759 -> 495 ms, tools 441 -> 268 ms); a collision among a million attempts has odds of about 1 in 40 million,
-- and would count one attempt's steps in one chart.
cityHash64(TraceId) IN (SELECT cityHash64(TraceId) FROM {database}.execlog_attempts WHERE {attempts_conditions})
