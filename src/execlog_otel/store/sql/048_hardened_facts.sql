-- Facts that one client's numbers or roots can no longer poison for everyone, given to the views of existing stores:
-- a reported execlog.cost.usd counts only as a finite amount from 0 to a billion dollars (facts/reported_cost_usd.sql:
-- "inf" made the listing sorted by cost answer 500 for every user, a negative one lowered the totals); a token count
-- past 32 bits reads as 0 (facts/input_tokens.sql: 18446744073709551615 showed -1 input tokens and trillions of
-- dollars, and wrapped the totals); gen_ai.usage.reasoning_tokens (traceloop-sdk, OpenLIT) is read; a create_agent
-- root (OpenLIT's "create_agent default" at every LangGraph compile) is no execution; an @openlit.trace root whose
-- function raised is an agent, as its successful runs are (facts/execution_kind.sql); and an aggregate agent or
-- workflow span's model is not one of its attempt's Models. The views below are those whose rendered SELECT changed.
--
-- Rows stored before keep what they were derived with, in every table: deriving execlog_executions and
-- execlog_attempts again from otel_traces took 70 s at 10 M spans here (about 10 minutes at 100 M, every time a
-- store of that size is first opened by this release, its listing empty meanwhile), and the per-span tables several
-- times as much, for rows that leave with the retention: a create_agent run or a failed @openlit.trace run stored
-- before stays as it was listed, reasoning tokens under the traceloop name stay 0, an aggregate span's model stays
-- listed, and a poisoned cost or token count stays in its sums. The reads guard such costs: a sum that is not finite
-- is no cost (facts/usage_cost_usd.sql), and nano-dollars are made of finite, bounded amounts only
-- (facts/cost_nano.sql), so an old row can no longer fail the listing.
ALTER TABLE {database}.execlog_executions_mv {on_cluster} MODIFY QUERY {executions_select};
ALTER TABLE {database}.execlog_attempts_mv {on_cluster} MODIFY QUERY {attempts_select};
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
ALTER TABLE {database}.execlog_llm_usage_mv {on_cluster} MODIFY QUERY {llm_usage_select};
ALTER TABLE {database}.execlog_usage_hourly_mv {on_cluster} MODIFY QUERY {usage_hourly_select};
ALTER TABLE {database}.execlog_span_facts_mv {on_cluster} MODIFY QUERY {span_facts_select};

CREATE OR REPLACE VIEW {database}.execlog_trace_costs {on_cluster} AS {trace_costs_select};
