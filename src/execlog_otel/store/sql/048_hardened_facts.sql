-- Facts that one client's numbers or roots can no longer poison for everyone, given to the views of existing stores:
-- a reported execlog.cost.usd counts only as a finite amount from 0 to a billion dollars (facts/reported_cost_usd.sql:
-- "inf" made the listing sorted by cost answer 500 for every user, a negative one lowered the totals); a token count
-- past 32 bits reads as 0 (facts/input_tokens.sql: 18446744073709551615 showed -1 input tokens and trillions of
-- dollars, and wrapped the totals); gen_ai.usage.reasoning_tokens (traceloop-sdk, OpenLIT) is read; a create_agent
-- root (OpenLIT's "create_agent default" at every LangGraph compile) is no execution; an @openlit.trace root whose
-- function raised is an agent, as its successful runs are (facts/execution_kind.sql); and an aggregate agent or
-- workflow span's model is not one of its attempt's Models. The views below are those whose rendered SELECT changed.
--
-- Rows stored before: execlog_executions and execlog_attempts are derived again from otel_traces (schema.REDERIVE),
-- so the create_agent runs leave the listing and the failed OpenLIT runs count in their agent's listing and failure
-- rate. It costs in proportion to the executions, once, when this release first opens the store: at 1 M spans
-- (100 k executions) 5 to 9 s here (2 CPUs shared with a test run), so minutes at 100 M. The per-span and
-- per-attempt tables (execlog_llm_usage and the sums fed from it, execlog_trace_rollups, execlog_span_facts) are kept
-- as they were: deriving them again would cost several times as much (execlog_llm_usage alone: 8 to 9 s at 1 M spans)
-- for changes that are cosmetic in past rows (reasoning tokens under the traceloop name stay 0, an aggregate span's
-- model stays listed), and a poisoned cost or token count stored before stays in its sums (until retention drops it).
-- The reads guard such costs: a sum that is not finite is no cost (facts/usage_cost_usd.sql), and nano-dollars are
-- made of finite, bounded amounts only (facts/cost_nano.sql), so an old row can no longer fail the listing.
ALTER TABLE {database}.execlog_executions_mv {on_cluster} MODIFY QUERY {executions_select};
ALTER TABLE {database}.execlog_attempts_mv {on_cluster} MODIFY QUERY {attempts_select};
ALTER TABLE {database}.execlog_trace_rollups_mv {on_cluster} MODIFY QUERY {rollups_select};
ALTER TABLE {database}.execlog_llm_usage_mv {on_cluster} MODIFY QUERY {llm_usage_select};
ALTER TABLE {database}.execlog_usage_hourly_mv {on_cluster} MODIFY QUERY {usage_hourly_select};
ALTER TABLE {database}.execlog_span_facts_mv {on_cluster} MODIFY QUERY {span_facts_select};

CREATE OR REPLACE VIEW {database}.execlog_trace_costs {on_cluster} AS {trace_costs_select};
