-- listing_totals.sql's parts for a filter of projects, kind, name, status or service ({and_where}, on columns the
-- summary has too): the sums of the summary (execlog_execution_totals, migration 049) over the days nothing was
-- stored for since it was made, and the executions of the other days {days:Array(Date)} as they are now
-- ({changed_days}: read/totals_parts.sql over those days' partitions, and the rollups of attempts started from the
-- day before the first: a span may start before its root on another clock, not a day before).
SELECT toInt64(sum(Executions)) AS Executions, toInt64(sum(Failed)) AS Failed, sum(Tokens) AS Tokens,
       sum(CostSteps) AS CostSteps, sum(PricedCostUsd) AS PricedCostUsd,
       sum(UnpricedReportedUsd) AS UnpricedReportedUsd, sum(UnpricedSteps) AS UnpricedSteps
FROM {database}.execlog_execution_totals
WHERE Day NOT IN {days:Array(Date)} {and_where}
{changed_days}
