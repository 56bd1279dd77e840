-- Executions per status under a filter (at most {count_cap} + 1 read; the status menu's counts).
SELECT Status, count() AS N FROM (
    SELECT Status FROM {database}.execlog_executions FINAL
    {where}
    LIMIT {count_cap_plus_one}
)
GROUP BY Status
