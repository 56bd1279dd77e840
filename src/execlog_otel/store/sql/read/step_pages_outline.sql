-- A big attempt's outline read back from execlog_step_pages (033), when every one of its Total steps was
-- written under this Version: position order, one row per position; the outline's facts only.
SELECT SpanId, Depth, ParentPosition, Descendants, toUnixTimestamp64Nano(Start) AS StartNs, Duration,
       StepStatus = 'Failed' AS Failed, Total, T0
FROM {database}.execlog_step_pages
WHERE TraceId = {id:String} AND Version = {version:String}
ORDER BY Position
LIMIT 1 BY Position
