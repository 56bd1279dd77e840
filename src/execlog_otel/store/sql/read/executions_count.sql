-- How many executions match (at most {count_cap} + 1 are read). With a status filter the newest state
-- decides (FINAL); without one every filter is on the execution's identity, which its state rows
-- repeat, so counting distinct ids needs no FINAL.
SELECT count() FROM (
    SELECT {distinct} FROM {database}.execlog_executions {final}
    {where}
    LIMIT {count_cap_plus_one}
)
