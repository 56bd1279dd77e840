-- An execution's state is its latest attempt's even when an earlier attempt's root ends later (a busy Celery
-- worker ends attempt 1 after attempt 2 has started): the executions' version orders by attempt first
-- (facts/observation_version.sql). Rows stored before keep their versions, which rank below the new ones.
ALTER TABLE {database}.execlog_executions_mv {on_cluster} MODIFY QUERY {executions_select};
