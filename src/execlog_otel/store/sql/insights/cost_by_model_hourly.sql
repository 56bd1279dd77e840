-- The usage cost_by_model.sql prices when the filters select only a range and projects and the chart's
-- interval is whole hours: the hourly totals (execlog_usage_hourly, LLM steps by the hour they started) of the
-- hours the range overlaps, summed per interval and model (a few thousand rows for 30 days).
SELECT formatDateTime(toStartOfInterval(toDateTime(Hour, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Model, {usage_sums}
FROM {database}.execlog_usage_hourly
WHERE Hour >= toStartOfHour(fromUnixTimestamp64Nano({from_ns:Int64}))
  AND Hour <= fromUnixTimestamp64Nano({to_ns:Int64}) AND Model != ''
  AND ({all_projects:UInt8} OR Project IN {projects:Array(String)})
GROUP BY bucket, Model
