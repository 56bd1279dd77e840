-- The runs (attempts) of the executions selected that used each tool or connector ({facet}), as rows of (Value,
-- Runs) to add up per value: the attempts of the days the range covers whole and the summary has closed
-- (execlog_tool_days, 044_tool_days.sql) from their summary rows; the attempts of the rest of the range from their
-- pairs (execlog_trace_tools, one row per attempt and value once their parts merge, so counted distinct); and,
-- for the attempts of the summarised days, the pairs first stored since the summary was made (a late one is
-- never hidden by a summary made without it, nor counted twice). {mid_from_ns}..{mid_to_ns} are the whole days
-- of the range (equal when the filters are ones the summary does not know: name, service, status, projects).
-- An attempt's pairs are read from an hour before it starts (for clocks that disagree) to a day after the part
-- of the range it is in: at 10 M spans every day's pairs took 65 ms more; a tool an attempt first used more than
-- a day after that is not counted.
WITH (SELECT max(Through) FROM {database}.execlog_tool_days) AS through,
     fromUnixTimestamp64Nano({from_ns:Int64}) AS range_from,
     fromUnixTimestamp64Nano({to_ns:Int64}) AS range_to,
     fromUnixTimestamp64Nano({mid_from_ns:Int64}) AS mid_from,
     greatest(mid_from, least(fromUnixTimestamp64Nano({mid_to_ns:Int64}),
                              toDateTime64((SELECT max(Closed) FROM {database}.execlog_tool_days), 9, 'UTC'))) AS mid_to,
     -- Whether days are summarised and any pair was stored since (only then are the pairs stored since and the
     -- attempts of the summarised days looked up: with no summary yet, every pair is "since").
     mid_from < mid_to
     AND (SELECT count() > 0 FROM {database}.execlog_trace_tools WHERE Facet = {facet} AND Inserted >= through) AS late
SELECT Value, Runs FROM {database}.execlog_tool_days
WHERE Facet = {facet} AND Day >= toDate(mid_from, 'UTC') AND Day < toDate(mid_to, 'UTC')
  AND ({kind:String} = '' OR Kind = {kind:String})
UNION ALL
SELECT Value, uniqExact(Trace) FROM {database}.execlog_trace_tools
WHERE Facet = {facet}
  AND (Start >= range_from - INTERVAL 1 HOUR AND Start < mid_from + INTERVAL 1 DAY
       OR Start >= mid_to - INTERVAL 1 HOUR AND Start < range_to + INTERVAL 1 DAY)
  AND Trace IN (SELECT cityHash64(TraceId) FROM {database}.execlog_attempts
                WHERE {attempts_conditions} AND NOT (Start >= mid_from AND Start < mid_to))
GROUP BY Value
UNION ALL
SELECT Value, count() FROM (
    -- Every row of the pairs stored since (their earlier rows, if any, in parts not merged yet: found by key).
    SELECT Value, Trace FROM {database}.execlog_trace_tools
    WHERE (Facet, Value, Trace) IN (SELECT Facet, Value, Trace FROM {database}.execlog_trace_tools
                                    WHERE Facet = {facet} AND Inserted >= through AND late)
    GROUP BY Value, Trace
    HAVING min(Inserted) >= through
)
WHERE Trace IN (SELECT cityHash64(TraceId) FROM {database}.execlog_attempts
                WHERE late AND Start >= mid_from AND Start < mid_to AND {attempts_conditions})
GROUP BY Value
