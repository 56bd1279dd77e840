-- A span whose status is Error: "Error" as the Collector's exporter writes it today, "STATUS_CODE_ERROR"
-- as its versions before the OTLP data model's rename wrote it (rows from either read alike).
StatusCode IN ('Error', 'STATUS_CODE_ERROR')
