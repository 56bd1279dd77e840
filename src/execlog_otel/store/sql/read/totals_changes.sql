-- The listing totals' summary (execlog_execution_totals): when it was made (ThroughS, seconds since 1970: every row
-- has the same Through; 0 before its first run, or on a sharded cluster, where nothing makes it) and its age, and
-- what was stored since that can change an execution's totals: the days (UTC) of the executions with a row of
-- their own stored since (a new execution, attempt or state marker), and the traces with a rollup row stored since
-- whose execution has no such row (a step arriving late), at most {limit:UInt32}. Each scalar subquery runs once;
-- the parts stored before the summary are skipped by their statistics of Inserted (and its minmax indexes).
WITH
    (SELECT (toUnixTimestamp(Through), dateDiff('second', Through, now()))
     FROM {database}.execlog_execution_totals LIMIT 1) AS summary,
    toDateTime(summary.1) AS through,
    (SELECT (groupUniqArray(toDate(Start, 'UTC')), groupUniqArray(TraceHash)) FROM {database}.execlog_executions
     WHERE summary.1 > 0 AND Inserted >= through) AS changed
SELECT
    summary.1 AS ThroughS,
    summary.2 AS AgeS,
    changed.1 AS Days,
    (SELECT groupUniqArray(TraceId) FROM (
        SELECT TraceId FROM {database}.execlog_trace_rollups
        WHERE summary.1 > 0 AND Inserted >= through AND TraceHash NOT IN changed.2
        LIMIT {limit:UInt32})) AS LateTraces
