-- The usage cost_by_model.sql prices when the filters select more than a range: the selected attempts' stored
-- usage rows (execlog_trace_usage, per attempt and model as parts merge) summed per interval and model, each row
-- in the interval of its first LLM step — as the hourly totals count each step in its hour — without summing
-- each attempt first (that grouping was most of the chart's time at 10 M spans).
SELECT formatDateTime(toStartOfInterval(toDateTime(Start, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Model, {usage_sums}
FROM {database}.execlog_trace_usage
WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
  AND Model != '' AND {attempts_filter}
GROUP BY bucket, Model
