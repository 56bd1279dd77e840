-- The usage cost_by_model.sql prices when the filters select a kind or a name (and a range): named_usage.sql's
-- rows summed per interval and model.
SELECT formatDateTime(Bucket, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Model, {usage_sums}
FROM ({named_usage})
WHERE Model != ''
GROUP BY bucket, Model
