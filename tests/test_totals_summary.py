"""The listing's totals from their summary (execlog_execution_totals, migration 049): under a filter of status,
kind, name, service or projects they give what reading every matched execution gives, before the summary is made,
after, and after what is stored since (a retry, a step arriving late, a new execution); and the summary is what
they read for the days nothing changed, unless it is stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sql_fixture_data as fx
from execlog_otel import semconv as sc
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository
from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.scope import ProjectScope

FILTERS = {
    "failed": ListFilter(status=("Failed",)),
    "success": ListFilter(status=("Success",)),
    "failed or rejected": ListFilter(status=("Failed", "Rejected")),
    "running": ListFilter(status=("Running",)),
    "agents": ListFilter(kind="agent"),
    "successful automations": ListFilter(kind="automation", status=("Success",)),
    "one name": ListFilter(name="research-agent"),
    "one service": ListFilter(service=fx.CRM_SVC),
    "one project": ListFilter(status=("Failed",), scope=ProjectScope(frozenset({"default"}))),
}


def _totals(store) -> dict[str, tuple]:
    """Every filter's totals as the listing shows them (costs rounded past the float sums' order)."""
    reads = Repository(store)
    return {key: _shown(reads.totals(f)) for key, f in FILTERS.items()}


def _from_executions(store) -> dict[str, tuple]:
    """The same, read from every matched execution: a time range (from 1970) is a filter the summary does not know."""
    reads = Repository(store)
    return {key: _shown(reads.totals(replace(f, from_ns=0))) for key, f in FILTERS.items()}


def _shown(t) -> tuple:
    return t.executions, t.failed, t.tokens, None if t.cost_usd is None else round(t.cost_usd, 9), t.unpriced_steps


def _as_stored_an_hour_ago(store) -> None:
    """Every execution and rollup row as stored an hour ago, then the summary made (as its view does hourly)."""
    for table in ("execlog_executions", "execlog_trace_rollups"):
        store.pool.command(f"ALTER TABLE {store.table(table)} UPDATE Inserted = now() - INTERVAL 1 HOUR WHERE 1",
                           settings={"mutations_sync": 2})
    store.refresh_summaries(("execlog_execution_totals_mv",))


def _late_llm_step(store, label: str, tokens: int) -> None:
    """An LLM step of the run ``label`` stored now, after its root (another service's exporter flushing late)."""
    cols = SpanColumns()
    start = int((datetime.now(UTC) - timedelta(days=1)).timestamp()) * fx.S
    cols.add(start_ns=start, end_ns=start + fx.S, trace_id=fx.trace_id(label), span_id=fx.span_id(label + "/late"),
             parent_span_id=fx.span_id(label + "/root"), name="chat gpt-4o", trace_state="", kind="Client",
             service_name="late-service", resource={"service.name": "late-service"}, scope_name="late",
             scope_version="1", status_code="Unset", status_message="",
             attributes={sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
                         sc.GEN_AI_USAGE_INPUT_TOKENS: str(tokens), sc.GEN_AI_USAGE_OUTPUT_TOKENS: "0"})
    store.insert_span_columns(cols.columns)


def test_totals_read_their_summary_and_what_changed_since(store, monkeypatch):
    now = datetime.now(UTC)
    first = {r.label for r in fx.runs() if not r.retry_of}
    fx.load(store, now=now - timedelta(days=2), only=first)
    expected = _from_executions(store)
    assert expected["failed"][0] == 4 and expected["agents"][2] > 0  # A2, A4, B3, B7; the agents' tokens
    # Before the summary has seen any of it, every day is read from the executions.
    assert _totals(store) == expected

    _as_stored_an_hour_ago(store)
    summary = store.table("execlog_execution_totals")
    assert store.pool.query(f"SELECT sum(Executions) FROM {summary}").result_rows[0][0] == len(first)
    assert _totals(store) == expected

    # A retry stored since: A4 failed, its second attempt succeeds; its day is read from the executions again.
    fx.load(store, now=now - timedelta(days=2), only={"A4b"})
    after_retry = _from_executions(store)
    assert after_retry["failed"][0] == expected["failed"][0] - 1
    assert after_retry["success"][0] == expected["success"][0] + 1
    assert _totals(store) == after_retry

    # A step arriving late into a run whose execution has no row stored since (A3, summarised): its tokens count.
    _as_stored_an_hour_ago(store)
    assert _totals(store) == after_retry
    _late_llm_step(store, "A3", 777)
    late = _from_executions(store)
    assert late["one name"][2] == after_retry["one name"][2] + 777
    assert _totals(store) == late

    # A new execution today.
    monkeypatch.setattr(fx, "runs", lambda: [fx.Run("NEW", "agent", "research-agent", fx.AGENTS_SVC, 60, 1.0,
                                                    "Failed", [fx.llm("gpt-4o", 10, 5)], error="boom")])
    fx.load(store, now=now)
    today = _from_executions(store)
    assert today["failed"][0] == late["failed"][0] + 1
    assert _totals(store) == today

    # The summary is what is read for the days nothing changed: without their rows, the totals stay.
    _as_stored_an_hour_ago(store)
    for table in ("execlog_executions", "execlog_trace_rollups", "execlog_attempts"):
        store.pool.command(f"TRUNCATE TABLE {store.table(table)}")
    assert _totals(store) == today
    assert _from_executions(store)["failed"] == (0, 0, 0, 0.0, 0)

    # A summary older than two hours (its view stopped) is not read.
    store.pool.command(f"ALTER TABLE {summary} UPDATE Through = now() - INTERVAL 3 HOUR WHERE 1",
                       settings={"mutations_sync": 2})
    assert _totals(store)["failed"] == (0, 0, 0, 0.0, 0)


def test_totals_with_many_late_steps_read_the_executions(store, monkeypatch):
    """Past the limit of late steps to look up, the totals read every matched execution (the same answer)."""
    now = datetime.now(UTC)
    fx.load(store, now=now - timedelta(days=2))
    _as_stored_an_hour_ago(store)
    monkeypatch.setattr("execlog_otel.store.repository.TOTALS_SUMMARY_LATE", 1)
    _late_llm_step(store, "A3", 5)
    _late_llm_step(store, "A1", 7)
    assert _totals(store) == _from_executions(store)
