-- The usage cost_by_model.sql prices: the attempts' usage summed per interval (of its first LLM step) and model.
SELECT formatDateTime(toStartOfInterval(toDateTime(FirstStart, 'UTC'), toIntervalSecond({bucket_s:UInt32})),
                      '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Model, {usage_sums}
FROM ({trace_usage_in_range})
WHERE Model != ''
GROUP BY bucket, Model
