-- Insights: the agents and automations with the most failed (Failed, Rejected) executions.
SELECT Kind AS kind, Name AS name, count() AS executions, countIf({fact.failed_execution}) AS failed,
       round(failed / executions, 4) AS failure_rate
FROM {database}.execlog_executions FINAL
WHERE {executions_filter}
GROUP BY kind, name
HAVING failed > 0
ORDER BY failed DESC, name
LIMIT 10
