-- The usage cost_by_name.sql prices: named_usage.sql's rows summed per interval, kind, name and model.
SELECT formatDateTime(Bucket, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, Kind, Name, Model, {usage_sums}
FROM ({named_usage})
GROUP BY bucket, Kind, Name, Model
