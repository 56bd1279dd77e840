-- The derived tables read per execution or trace with FINAL or GROUP BY keep one part per past day: once every
-- part of a day partition is ten minutes old (the day has ended, or nothing has arrived for ten minutes), the
-- whole partition is merged into one. Left to the merge selector, a day could keep two parts for good (the
-- spans' rollup rows and the cost rows of execlog_trace_rollup_costs_mv, of sizes it finds not worth merging:
-- 173,369 rows in 60 parts for 100,000 traces at 1 M spans), and every read by key then merged them again: a
-- listing page's facts 12.1 ms with two parts a day, 10.1 ms with one (in-process, the same 50 traces).
-- The current day, still written to, is merged by the selector as before; a pause of ten minutes merges it whole.
ALTER TABLE {database}.execlog_trace_rollups {on_cluster}
    MODIFY SETTING min_age_to_force_merge_seconds = 600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE {database}.execlog_trace_usage {on_cluster}
    MODIFY SETTING min_age_to_force_merge_seconds = 600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE {database}.execlog_executions {on_cluster}
    MODIFY SETTING min_age_to_force_merge_seconds = 600, min_age_to_force_merge_on_partition_only = 1;

ALTER TABLE {database}.execlog_attempts {on_cluster}
    MODIFY SETTING min_age_to_force_merge_seconds = 600, min_age_to_force_merge_on_partition_only = 1;
