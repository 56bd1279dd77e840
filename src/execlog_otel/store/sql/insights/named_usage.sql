-- The LLM usage of the executions selected, summed per interval ({bucket_s}), kind, name and model, for the cost
-- charts: the whole hours of the range the summary has closed (execlog_named_usage_hourly, 043) from their
-- summary rows; the rest of the range, and for the summarised hours the LLM steps stored since the summary was
-- made (Inserted >= its Through), from the LLM steps (execlog_llm_usage) matched to their attempts
-- (insights/attempts_conditions.sql; {raw_attempts}: only the attempts of those steps, when they are a few hours'
-- worth). {hour_from_ns}..{hour_to_ns} are the whole hours of the range (equal when the filters are ones the
-- summary does not know — service, status, projects — or the interval is not whole hours, so nothing is read
-- from it). Each step counts in the interval it started in.
WITH (SELECT max(Through) FROM {database}.execlog_named_usage_hourly) AS through,
     fromUnixTimestamp64Nano({hour_from_ns:Int64}) AS mid_from,
     least(fromUnixTimestamp64Nano({hour_to_ns:Int64}),
           toDateTime64((SELECT max(Closed) FROM {database}.execlog_named_usage_hourly), 9, 'UTC')) AS mid_to,
     raw AS (
        SELECT Start, TraceId, Model, {fact.step_usage_columns}
        FROM {database}.execlog_llm_usage
        WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
          AND NOT (Start >= mid_from AND Start < mid_to)
        UNION ALL
        SELECT Start, TraceId, Model, {fact.step_usage_columns}
        FROM {database}.execlog_llm_usage
        WHERE Start >= mid_from AND Start < mid_to AND Inserted >= through
     )
SELECT toStartOfInterval(Hour, toIntervalSecond({bucket_s:UInt32}), 'UTC') AS Bucket, Kind, Name, Model,
       {usage_sums}
FROM {database}.execlog_named_usage_hourly
WHERE Hour >= mid_from AND Hour < mid_to
  AND ({kind:String} = '' OR Kind = {kind:String}) AND ({name:String} = '' OR Name = {name:String})
GROUP BY Bucket, Kind, Name, Model
UNION ALL
SELECT toStartOfInterval(u.Start, toIntervalSecond({bucket_s:UInt32}), 'UTC') AS Bucket, a.Kind, a.Name, u.Model,
       {fact.step_usage_sums}
FROM raw AS u
-- LEFT ANY, then only the steps matched: an INNER ANY JOIN keeps one row per key of either side (one LLM step
-- per attempt); the attempt's rows, which repeat its values until merged, are taken once.
LEFT ANY JOIN (
    SELECT cityHash64(TraceId) AS Trace, Kind, Name FROM {database}.execlog_attempts
    WHERE {attempts_conditions} {raw_attempts}
) AS a ON cityHash64(u.TraceId) = a.Trace
WHERE a.Trace != 0
GROUP BY Bucket, a.Kind, a.Name, u.Model
