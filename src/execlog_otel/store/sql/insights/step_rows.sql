-- The steps of the executions selected as rows of (StepName, Runs, Failures, Durations: a quantilesDD state) for
-- the slowest and most failing steps: the days the range covers whole and the summary has closed (execlog_step_days,
-- 042_step_days.sql) from their summary rows; the rest of the range from the steps themselves (execlog_steps);
-- and, for the summarised days, the steps stored since the summary was made (Inserted >= its Through: a late
-- step is never hidden by a summary made without it). {mid_from_ns}..{mid_to_ns} are the whole days of the range
-- (equal when the filters are ones the summary does not know: name, service, status, projects).
WITH (SELECT max(Through) FROM {database}.execlog_step_days) AS through,
     fromUnixTimestamp64Nano({mid_from_ns:Int64}) AS mid_from,
     least(fromUnixTimestamp64Nano({mid_to_ns:Int64}),
           toDateTime64((SELECT max(Closed) FROM {database}.execlog_step_days), 9, 'UTC')) AS mid_to
SELECT StepName, Runs, Failures, Durations FROM {database}.execlog_step_days
WHERE Day >= toDate(mid_from, 'UTC') AND Day < toDate(mid_to, 'UTC')
  AND ({kind:String} = '' OR Kind = {kind:String})
UNION ALL
SELECT StepName, count(), sum(Failed), quantilesDDState({step_duration_quantiles})(Duration)
FROM {database}.execlog_steps
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
  AND NOT (Start >= mid_from AND Start < mid_to) AND {attempts_filter}
GROUP BY StepName
UNION ALL
SELECT StepName, count(), sum(Failed), quantilesDDState({step_duration_quantiles})(Duration)
FROM {database}.execlog_steps
WHERE Start >= mid_from AND Start < mid_to AND Inserted >= through AND {attempts_filter}
GROUP BY StepName
