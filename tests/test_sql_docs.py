"""docs/sql.md: every documented query runs (the way `execlog sql` runs it) and returns what the docs say;
the schema section names every column, and the attribute section every execlog.* / gen_ai.* name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sql_fixture_data as fx
from execlog_otel import semconv as sc
from execlog_otel import sqlcmd

DOC = Path(__file__).resolve().parent.parent / "docs" / "sql.md"
_BLOCK = re.compile(r"<!-- query: ([a-z0-9-]+) -->\s*```sql\n(.*?)```\s*\nReturns: (.*?) —", re.S)


def documented_queries() -> dict[str, tuple[str, list[str]]]:
    """id -> (SQL, the column names the docs say it returns)."""
    text = DOC.read_text(encoding="utf-8")
    out = {}
    for qid, sql, returns in _BLOCK.findall(text):
        out[qid] = (sql.strip(), re.findall(r"`([^`]+)`", returns))
    assert text.count("<!-- query:") == len(out), "a query block is not followed by its Returns: line"
    return out


def test_at_least_ten_queries_including_the_asked_for_ones():
    queries = documented_queries()
    assert len(queries) >= 10
    assert {"failed-last-24h", "tokens-per-model-per-day", "slowest-steps", "retry-success-rate",
            "by-target-record"} <= queries.keys()


def test_every_execlog_and_gen_ai_attribute_is_documented():
    text = DOC.read_text(encoding="utf-8")
    names = {v for k, v in vars(sc).items() if isinstance(v, str) and not k.startswith("_")
             and (v.startswith("execlog.") or v.startswith("gen_ai."))}
    assert len(names) > 40
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"attributes missing from docs/sql.md: {missing}"
    for status in sc.Status:
        assert f"`{status.value}`" in text or status.value in text
    for kind in sc.StepKind:
        assert f"`{kind.value}`" in text


def test_schema_section_names_every_column(store):
    text = DOC.read_text(encoding="utf-8")
    for table in ("otel_traces", "otel_traces_trace_id_ts", "execlog_executions", "execlog_trace_rollups"):
        cols = store.pool.query("SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
                                  parameters={"db": store.database, "t": table}).result_rows
        assert cols
        section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
        missing = [c for (c,) in cols if f"`{c}`" not in section]
        assert not missing, f"{table}: columns not documented: {missing}"


def test_beyond_the_peers_statement():
    text = DOC.read_text(encoding="utf-8")
    assert "materialized views inside ClickHouse" in text
    assert "whether spans\ncame through the SDK, `execlog serve` or the Collector" in text


@pytest.fixture
def results(store, chdb_url) -> dict[str, list[dict]]:
    """Every documented query, run on the fixture data exactly as `execlog sql` runs it."""
    loaded = fx.load(store)
    client = sqlcmd.read_only_client(chdb_url, store.database)
    out = {}
    try:
        for qid, (sql, columns) in documented_queries().items():
            result = sqlcmd.run_read_only(client, sql)
            # An empty result carries no column names (the embedded engine): models-without-price on this
            # fixture, whose models all have prices (test_costs.py checks it with one that has none).
            assert result.columns == columns or (not result.rows and not result.columns), \
                f"{qid}: returns {result.columns}, the docs say {columns}"
            out[qid] = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    finally:
        client.close()
    out["__loaded__"] = loaded  # type: ignore[assignment]
    return out


def test_documented_queries_return_what_the_docs_say(results):
    loaded: fx.Loaded = results["__loaded__"]  # type: ignore[assignment]
    # Failed / Rejected in the last 24 h, newest first; B3 is three days old.
    assert [(r["Name"], r["Status"], r["ExecutionId"]) for r in results["failed-last-24h"]] == [
        ("sync-crm", "Failed", loaded.eid("B7")), ("invoice-run", "Rejected", loaded.eid("B4")),
        ("triage-agent", "Failed", loaded.eid("A2"))]
    day = loaded.store.pool.query(  # the day as ClickHouse's time zone sees it
        f"SELECT toString(toDate(toDateTime({int(loaded.t0.timestamp())})))").result_rows[0][0]
    assert [(r["day"], r["model"], r["tokens"]) for r in results["tokens-per-model-per-day"]] == [
        (day, "claude-sonnet-4", 1500), (day, "gpt-4o", 1370), (day, "gpt-4o-mini", 330),
        (day, "gpt-3.5-turbo", 15)]
    gpt4o = next(r for r in results["tokens-per-model-per-day"] if r["model"] == "gpt-4o")
    assert (gpt4o["input_tokens"], gpt4o["output_tokens"]) == (1100, 270)
    slow = results["slowest-steps"]
    assert [(r["step"], r["runs"], r["p95_ms"], r["max_ms"]) for r in slow[:3]] == [
        ("send-invoices", 2, 9000, 9000), ("update-record", 3, 2000, 2000), ("fetch-invoices", 2, 800, 800)]
    assert results["retry-success-rate"] == [
        {"retried": 1, "succeeded_after_retry": 1, "retry_success_rate": 1.0}]
    assert [(r["Name"], r["Status"], r["RequestId"]) for r in results["by-target-record"]] == [
        ("sync-crm", "Partially Executed", "REQ-B2"), ("sync-crm", "Failed", "REQ-B3")]
    spans = results["spans-by-request-id"]
    assert [(r["SpanName"], r["is_root"], r["step_status"]) for r in spans] == [
        ("sync-crm", True, ""), ("webhook received", False, "Success"), ("fetch contact", False, "Success"),
        ("update-record", False, "Failed"), ("notify", False, "Skipped")]
    assert spans[3]["StatusMessage"] == "validation failed: email is required" and spans[3]["duration_ms"] == 700
    assert [(r["Kind"], r["Name"], r["executions"], r["succeeded"], r["success_rate"])
            for r in results["success-rate-per-name"]] == [
        ("agent", "legacy-agent", 1, 1, 1.0), ("agent", "research-agent", 2, 2, 1.0),
        ("agent", "triage-agent", 2, 1, 0.5), ("automation", "invoice-run", 2, 1, 0.5),
        ("automation", "sync-crm", 4, 1, 0.25)]
    assert [(r["name"], r["attempts"], r["tokens"]) for r in results["token-hungry"]] == [
        ("research-agent", 1, 1830), ("research-agent", 2, 920), ("triage-agent", 1, 300),
        ("triage-agent", 1, 150), ("legacy-agent", 1, 15)]
    assert results["token-hungry"][1]["execution_id"] == loaded.eid("A4")
    assert results["top-tools"] == [{"tool": "search_kb", "executions": 3}, {"tool": "web_search", "executions": 2}]
    assert [(r["connector"], r["calls"], r["failed_calls"]) for r in results["connectors"]] == [
        ("salesforce", 2, 0), ("stripe", 2, 0), ("hubspot", 1, 0), ("notion", 1, 0)]
    assert [(r["Name"], r["Status"], r["ExecutionId"]) for r in results["live-now"]] == [
        ("invoice-run", "Running", loaded.eid("B6"))]
    assert [(r["step"], r["failures"], r["last_error"]) for r in results["failed-steps-24h"]] == [
        ("update-record", 2, "validation failed: owner missing"), ("execute_tool search_kb", 1, "search_kb timed out"),
        ("execute_tool web_search", 1, "rate limited"), ("send-invoices", 1, "time budget exceeded")]


def test_cost_queries_price_the_fixture_from_the_shipped_table(results):
    loaded: fx.Loaded = results["__loaded__"]  # type: ignore[assignment]
    # USD per million tokens: gpt-4o 2.50/10, claude-sonnet-4 3/15, gpt-4o-mini 0.15/0.60, gpt-3.5-turbo 0.50/1.50
    rows = results["cost-per-execution"]
    assert [(r["name"], r["execution_id"], r["attempts"], r["tokens"], r["unpriced_steps"]) for r in rows] == [
        ("research-agent", loaded.eid("A3"), 1, 1830, 0), ("research-agent", loaded.eid("A4"), 2, 920, 0),
        ("triage-agent", loaded.eid("A2"), 1, 300, 0), ("triage-agent", loaded.eid("A1"), 1, 150, 0),
        ("legacy-agent", loaded.eid("A5"), 1, 15, 0)]
    assert [r["cost_usd"] for r in rows] == pytest.approx([0.010563, 0.0032, 0.0015, 0.00075, 0.0000125], abs=1e-6)
    by_model = results["cost-per-model-per-day"]
    assert [(r["model"], r["priced_as"], r["calls"], r["tokens"]) for r in by_model] == [
        ("claude-sonnet-4", "claude-sonnet-4", 1, 1500), ("gpt-4o", "gpt-4o", 4, 1370),
        ("gpt-4o-mini", "gpt-4o-mini", 1, 330), ("gpt-3.5-turbo", "gpt-3.5-turbo", 1, 15)]
    assert [r["cost_usd"] for r in by_model] == pytest.approx([0.0105, 0.00545, 0.000063, 0.0000125], abs=1e-6)
    assert results["models-without-price"] == []


def test_execlog_prices_runs_the_documented_query():
    from execlog_otel.store.sqlfiles import statement

    assert documented_queries()["models-without-price"][0] == statement("read/models_without_price")


def test_every_documented_query_is_covered_by_an_expectation(results):
    tested = set(re.findall(r'results\["([a-z0-9-]+)"\]', Path(__file__).read_text(encoding="utf-8")))
    assert set(documented_queries()) <= tested
