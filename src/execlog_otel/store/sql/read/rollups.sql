-- The rollups of given traces (the background merge finished by GROUP BY); {since_clause} bounds Start
-- an hour before the earliest execution start (clocks of some hosts run behind), so ClickHouse skips
-- older partitions: a trace's spans, its retries and markers all start after it.
SELECT TraceId, sum(Steps) AS Steps, sum(FailedSteps) AS FailedSteps, sum(SkippedSteps) AS SkippedSteps,
       sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
       sum(TotalTokens) AS TotalTokens, groupUniqArrayArray(Models) AS Models,
       groupUniqArrayArray(Tools) AS Tools, groupUniqArrayArray(Connectors) AS Connectors
FROM {database}.execlog_trace_rollups
WHERE TraceId IN {ids:Array(String)}
  {since_clause}
GROUP BY TraceId
