"""Facts that one client's attributes cannot poison for everyone, and the roots of other clients read as what they
are (migration 048): against the embedded engine, spans written as their clients send them.

- A reported cost counts only as a finite amount from 0 to 10^9 USD, a token count only below 2^32; the listing
  sorted or filtered by cost and the totals answer for everyone, also over rows an older release stored.
- An attempt limit or payload size in digits int() refuses (``"²"``) is no number, not a 500.
- OpenLIT's ``create_agent`` root (every LangGraph compile) is no execution; an ``@openlit.trace`` root whose
  function raised is an agent, as its successful runs are.
- Reasoning tokens under ``gen_ai.usage.reasoning_tokens`` (traceloop-sdk, OpenLIT) are read.
- An aggregate agent/workflow span's model is not one of its attempt's models.
- A store made by release 047 gets, on upgrade, the view queries of a store made now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from execlog_otel import semconv as sc
from execlog_otel.config import Settings
from execlog_otel.store import records, sqlfiles
from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.store import Store
from viewer_support import now_ns

SECOND = 10**9
# The SQL files migration 048 changed that the views embed, as release 047 shipped them: a store migrated with them
# up to 047 is one that release made.
SQL_047 = Path(__file__).resolve().parent / "fixtures" / "sql_047"
# The views whose query 048 changes (found by rendering: a 047 store's against a new one's).
CHANGED_VIEWS = {"execlog_executions_mv", "execlog_attempts_mv", "execlog_trace_rollups_mv", "execlog_llm_usage_mv",
                 "execlog_usage_hourly_mv", "execlog_span_facts_mv", "execlog_trace_costs"}
VIEWS_SINCE_048 = {"execlog_execution_totals_mv"}  # made by later migrations, which the upgrade applies too
MODEL = "gpt-4o-mini"  # 0.15 USD per million input tokens, 0.60 per million output
ORDINARY_USD = (1200 * 0.15 + 300 * 0.60) / 1e6


def _id(n: int) -> str:
    return uuid.uuid4().hex[:n]


class Spans:
    """Spans written as one insert (as an exporter's batch), each as its client sends it."""

    def __init__(self) -> None:
        self.cols = SpanColumns()
        self.start = now_ns() - 120 * SECOND

    def span(self, name: str, attrs: dict[str, str], *, trace_id: str | None = None, parent: str = "",
             kind: str = "Internal", scope: str = "tests", status: str = "Unset", message: str = "",
             service: str = "hardening", ms: int = 50, events: tuple = ()) -> tuple[str, str]:
        trace_id, span_id = trace_id or _id(32), _id(16)
        self.start += SECOND
        self.cols.add(start_ns=self.start, end_ns=self.start + ms * 10**6, trace_id=trace_id, span_id=span_id,
                      parent_span_id=parent, trace_state="", name=name, kind=kind, service_name=service,
                      resource={"service.name": service}, scope_name=scope, scope_version="1", attributes=attrs,
                      status_code=status, status_message=message, events=events)
        return trace_id, span_id

    def run(self, name: str, *steps: dict[str, str]) -> str:
        """An execlog agent run whose steps are model calls with these attributes."""
        trace_id, root = self.span(name, {sc.KIND: "agent", sc.EXECUTION_NAME: name})
        for attrs in steps:
            self.span("chat", {sc.STEP_KIND: "llm", **attrs}, trace_id=trace_id, parent=root)
        return trace_id

    def write(self, store: Store) -> None:
        store.insert_span_columns(self.cols.columns)


def _chat(model: str = MODEL, **attrs: str) -> dict[str, str]:
    return {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: model, **attrs}


def _poisoned_runs(spans: Spans) -> None:
    """The reviewers' reproductions (SDK attributes= and OTLP alike), beside one ordinary run and one honest cost."""
    spans.run("ordinary", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "1200", sc.GEN_AI_USAGE_OUTPUT_TOKENS: "300"}))
    spans.run("paid-api", {sc.COST_USD: "0.25"})
    spans.run("cost-inf", {sc.COST_USD: "inf"})
    spans.run("cost-nan", {sc.COST_USD: "nan"})
    spans.run("cost-huge", {sc.COST_USD: "1e300"})
    spans.run("cost-negative", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "-500", sc.COST_USD: "-3"}))
    spans.run("tokens-wrapped", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "18446744073709551615"}))
    spans.run("tokens-huge", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "5000000000",
                                      sc.GEN_AI_USAGE_OUTPUT_TOKENS: "99999999999999999999999"}))


def _strict_json(data: bytes) -> Any:
    """JSON as a browser parses it: no Infinity or NaN."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the answer")
    return json.loads(data, parse_constant=refuse)


@pytest.fixture
def viewer_of(settings: Settings) -> Callable[[Store], Any]:
    """A Flask test client of the viewer over any store."""
    from execlog_otel.viewer.app import create_app

    def make(store: Store) -> Any:
        return create_app(replace(settings, database=store.database), store, receiver=False).test_client()

    return make


def _get(viewer: Any, url: str) -> Any:
    response = viewer.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:500])
    return _strict_json(response.data)


def _listing(viewer: Any, query: str = "") -> dict[str, dict]:
    return {e["name"]: e for e in _get(viewer, f"/api/executions?kind=all&limit=100{query}")["items"]}


# --- 1. poisoned numbers ------------------------------------------------------------------------------------


def test_a_cost_or_token_count_no_call_can_have_counts_as_not_reported(store, viewer_of):
    """One span's execlog.cost.usd="inf" made the listing sorted by cost (and "cost above") answer 500 for every
    user; 18446744073709551615 input tokens showed -1 tokens and $2.77 trillion and wrapped the totals; -3 USD
    lowered them. Each now reads as not reported: the listing, its sort and filter and the totals show the
    honest runs' numbers."""
    spans = Spans()
    _poisoned_runs(spans)
    spans.write(store)
    viewer = viewer_of(store)

    usage = dict(store.pool.query(
        f"SELECT a.Name, (u.ReportedCostUsd, u.InputTokens, u.OutputTokens) FROM {store.table('execlog_llm_usage')} "
        f"AS u JOIN {store.table('execlog_attempts')} AS a USING TraceId").result_rows)
    assert usage["paid-api"] == (0.25, 0, 0)
    assert not {"cost-inf", "cost-nan", "cost-huge"} & usage.keys()  # no model, no tokens, no cost: no LLM usage
    for name in ("cost-negative", "tokens-wrapped", "tokens-huge"):  # the model's call, with nothing reported
        assert usage[name] == (None, 0, 0), name

    listed = _listing(viewer)
    assert listed["ordinary"]["input_tokens"] == 1200
    assert listed["ordinary"]["cost_usd"] == pytest.approx(ORDINARY_USD)
    assert listed["paid-api"]["cost_usd"] == pytest.approx(0.25)
    for name in ("tokens-wrapped", "tokens-huge", "cost-negative"):
        assert (listed[name]["input_tokens"], listed[name]["cost_usd"]) == (0, 0), name
    for name in ("cost-inf", "cost-nan", "cost-huge"):
        assert (listed[name]["cost_usd"], listed[name]["cost"]["reported_usd"]) == (0, 0), name

    by_cost = list(_listing(viewer, "&sort=cost&order=desc"))
    assert by_cost[:2] == ["paid-api", "ordinary"] and set(by_cost) == set(listed)
    assert set(_listing(viewer, "&cost_above=0.0001")) == {"paid-api", "ordinary"}

    for query in ("", "&status=Success"):  # the hourly sums; the attempts' rollups under a filter
        totals = _get(viewer, f"/api/totals?kind=all{query}")
        assert totals["tokens"] == 1500
        assert totals["cost_usd"] == pytest.approx(0.25 + ORDINARY_USD)


# --- rows an older release stored ----------------------------------------------------------------------------


@pytest.fixture
def store_047(ch_client, monkeypatch) -> Iterator[Callable[[], Store]]:
    """Makes a store as release 047 made it: migrated up to 047 with the SQL of that release (its views derive
    rows by 047's rules); the files in tests/fixtures/sql_047 stand in for the current ones meanwhile."""
    made: list[Store] = []
    current = sqlfiles.read

    def read_047(name: str) -> str:
        old = SQL_047 / f"{name}.sql"
        return old.read_text(encoding="utf-8") if old.is_file() else current(name)

    def make() -> Store:
        older = Store(ch_client, f"t_{_id(12)}")
        made.append(older)
        with monkeypatch.context() as patch:
            patch.setattr(sqlfiles, "read", read_047)
            older.migrate(up_to=47)
        return older

    yield make
    for older in made:
        ch_client.command(f"DROP DATABASE IF EXISTS {older.database} SYNC")


def _views(store: Store) -> dict[str, str]:
    """Each view's query, with the store's database name taken out."""
    rows = store.pool.query("SELECT name, as_select FROM system.tables WHERE database = {db:String} "
                            "AND engine IN ('MaterializedView', 'View')", parameters={"db": store.database})
    return {name: query.replace(f"{store.database}.", "DB.") for name, query in rows.result_rows}


def test_the_047_files_are_older_versions_of_files_048_changed():
    """The stand-in files are the old versions of files that differ now (else the upgrade tests test nothing)."""
    stood_in = sorted(p.relative_to(SQL_047).as_posix()[:-4] for p in SQL_047.rglob("*.sql"))
    assert "facts/execution_kind" in stood_in and "llm_usage_rows" in stood_in
    for name in stood_in:
        assert (SQL_047 / f"{name}.sql").read_text(encoding="utf-8") != sqlfiles.read(name), name


def test_a_store_made_by_047_gets_the_view_queries_of_a_new_store_on_upgrade(store, store_047):
    """Migration 048 modifies every view whose rendered query changed: after the upgrade (spans written between),
    each view of the older store reads as a new store's (``store``, made by every migration now)."""
    older = store_047()
    before, new = _views(older), _views(store)
    assert before.keys() == new.keys() - VIEWS_SINCE_048
    assert {name for name in before if before[name] != new[name]} == CHANGED_VIEWS
    spans = Spans()
    spans.run("before-upgrade", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "10"}))
    spans.write(older)
    assert older.migrate() == ["048_hardened_facts", "049_execution_totals"]
    assert _views(older) == new


def test_rows_stored_before_048_cannot_break_the_listing_or_the_totals(store_047, viewer_of):
    """A store that took the poisoned spans under 047's rules keeps those rows (the per-span and per-attempt tables
    are not derived again): the listing, sorted by cost and filtered on it, and the totals answer all the same,
    in JSON a browser reads. The executions are not derived again either (70 s at 10 M spans): a create_agent root
    and a failed @openlit.trace root stored before stay as they were listed; those arriving after follow 048."""
    older = store_047()
    spans = Spans()
    _poisoned_runs(spans)
    spans.span("create_agent default", _create_agent_attrs(), kind="Client", scope=LANGGRAPH_SCOPE)
    spans.span("support_agent", {}, kind="Client", scope=sc.OPENLIT_TRACE_SCOPE, status="Error")
    spans.write(older)
    stored = older.pool.query(f"SELECT max(ReportedCostUsd), max(InputTokens) FROM {older.table('execlog_llm_usage')}")
    assert stored.result_rows[0][0] == float("inf") and stored.result_rows[0][1] == 2**64 - 1  # 047's rules
    viewer = viewer_of(older)
    before = _listing(viewer)  # by 047's rules
    assert "default" in before and before["support_agent"]["kind"] == "other"

    assert "048_hardened_facts" in older.migrate()
    listed = _listing(viewer)
    assert "default" in listed and "ordinary" in listed
    assert (listed["support_agent"]["kind"], listed["support_agent"]["status"]) == ("other", "Failed")
    assert listed["ordinary"]["cost_usd"] == pytest.approx(ORDINARY_USD)
    by_cost = list(_listing(viewer, "&sort=cost&order=desc"))
    assert set(by_cost) == set(listed)
    assert "ordinary" in _listing(viewer, "&cost_above=0.0001")
    assert (listed["cost-inf"]["cost_usd"], listed["cost-inf"]["cost"]["reported_usd"]) == (0, 0)
    for order in ("asc", "desc"):  # every page of the keyset by cost
        seen, cursor = [], ""
        while True:
            page = _get(viewer, f"/api/executions?kind=all&limit=3&sort=cost&order={order}{cursor}")
            seen += [e["name"] for e in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert sorted(seen) == sorted(listed), order
    for query in ("", "&status=Success"):
        _get(viewer, f"/api/totals?kind=all{query}")
    after = Spans()
    after.span("create_agent default", _create_agent_attrs(), kind="Client", scope=LANGGRAPH_SCOPE)
    after.span("support_agent", {}, kind="Client", scope=sc.OPENLIT_TRACE_SCOPE, status="Error")
    after.write(older)
    kinds = older.pool.query(f"SELECT Name, Kind, count() FROM {older.table('execlog_executions')} FINAL "
                             "WHERE Name IN ('default', 'support_agent') GROUP BY Name, Kind ORDER BY Name, Kind")
    assert kinds.result_rows == [("default", "agent", 1), ("support_agent", "agent", 1), ("support_agent", "other", 1)]


# --- 2. digits int() refuses ---------------------------------------------------------------------------------


def test_an_attempt_limit_in_digits_int_refuses_is_no_limit(store, client):
    """str.isdigit() takes "²", int() does not: a retried execution carrying execlog.max_attempts="²" made
    /api/executions answer 500 for everyone who listed it."""
    assert [records.positive_int(v) for v in ("3", "0", "²", "٣", "-1", "", None, "9" * 5000)] == \
        [3, None, None, None, None, None, None, None]
    capped = {sc.INPUT: '"abc"', sc.INPUT + sc.TRUNCATED_SUFFIX: "true"}
    assert records.payload({**capped, sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX: "²"}, sc.INPUT).original_size is None
    assert records.payload({**capped, sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX: "12"}, sc.INPUT).original_size == 12

    spans = Spans()
    first, _ = spans.span("retried", {sc.KIND: "automation", sc.EXECUTION_NAME: "retried", sc.STATUS: "Failed"})
    spans.span("retried", {sc.KIND: "automation", sc.EXECUTION_NAME: "retried", sc.RETRY_OF: first,
                           sc.ATTEMPT: "2", sc.EXECUTION_START: str(spans.cols.timestamp[0]),
                           sc.MAX_ATTEMPTS: "\u00b2"})
    spans.write(store)
    (item,) = _get(client, "/api/executions?kind=all")["items"]
    assert (item["attempt"], item["max_attempts"]) == (2, None)


# --- 3, 4. other clients' roots ------------------------------------------------------------------------------

LANGGRAPH_SCOPE = "openlit.instrumentation.langgraph"


def _create_agent_attrs() -> dict[str, str]:
    """The root OpenLIT 1.2 sends at every LangGraph graph.compile() (no children, ~1 ms)."""
    return {sc.GEN_AI_OPERATION_NAME: "create_agent", sc.GEN_AI_PROVIDER_NAME: "langgraph",
            sc.GEN_AI_AGENT_NAME: "default", "gen_ai.graph.nodes": '["agent", "tools"]',
            "gen_ai.agent.description": "Agent with nodes: agent, tools"}


def _kinds(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.pool.query(f"SELECT Name, Kind, Status FROM {store.table('execlog_executions')} FINAL")
    return {name: (kind, status) for name, kind, status in rows.result_rows}


def test_a_create_agent_root_is_no_execution(store):
    """In the GenAI conventions create_agent creates an agent, it does not run one: OpenLIT's "create_agent
    default" root of every LangGraph compile was listed as an agent execution "default". The graph's run is."""
    spans = Spans()
    spans.span("create_agent default", _create_agent_attrs(), kind="Client", scope=LANGGRAPH_SCOPE, ms=1)
    run, root = spans.span("invoke_workflow weather", {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
                                                       sc.GEN_AI_WORKFLOW_NAME: "weather"}, scope=LANGGRAPH_SCOPE)
    spans.span("chat gpt-4o-mini", _chat(), trace_id=run, parent=root, kind="Client")
    # Recorded by execlog (a kind of its own), the same operation is a run.
    spans.span("create_agent", {sc.GEN_AI_OPERATION_NAME: "create_agent", sc.KIND: "agent",
                                sc.EXECUTION_NAME: "builder"})
    spans.write(store)
    assert _kinds(store) == {"weather": ("automation", "Success"), "builder": ("agent", "Success")}
    attempts = store.pool.query(f"SELECT Name FROM {store.table('execlog_attempts')} ORDER BY Name").result_rows
    assert attempts == [("builder",), ("weather",)]


def test_a_failed_openlit_trace_root_is_an_agent_as_its_successful_runs_are(store, client):
    """@openlit.trace sets its attributes after the function returns: a root whose function raised carries none,
    and was kind "other", missing from its agent's listing and failure rate. Its scope ("openlit" itself) and
    span kind (client) are what every such root has; other clients' roots without attributes stay "other"."""
    spans = Spans()
    ok, _ = spans.span("support_agent", {sc.GEN_AI_OUTPUT_MESSAGES: "It is sunny in Paris, 21 C.",
                                         sc.OPENLIT_FUNCTION_ARGS: "('Where is my order?',)",
                                         sc.OPENLIT_FUNCTION_KWARGS: "{}"},
                       kind="Client", scope=sc.OPENLIT_TRACE_SCOPE, status="Ok")
    error = "InternalServerError: Error code: 500"
    raised = [(spans.start + SECOND + 10**6, "exception", {"exception.message": error})]
    failed, root = spans.span("support_agent", {}, kind="Client", scope=sc.OPENLIT_TRACE_SCOPE, status="Error",
                              message=error, events=raised)
    spans.span("chat gpt-4o-mini", _chat(), trace_id=failed, parent=root, kind="Client",
               scope="openlit.instrumentation.openai", status="Error")
    # Not @openlit.trace roots: a model call of OpenLIT's instrumentation, another library's bare client span, an
    # internal span of the "openlit" tracer.
    spans.span("lone chat", _chat(), kind="Client", scope="openlit.instrumentation.openai")
    spans.span("grpc call", {}, kind="Client", scope="opentelemetry.instrumentation.grpc")
    spans.span("internal", {}, scope=sc.OPENLIT_TRACE_SCOPE)
    spans.write(store)
    rows = store.pool.query(f"SELECT TraceId, Kind, Status FROM {store.table('execlog_executions')} FINAL "
                            "WHERE Name = 'support_agent'").result_rows
    assert sorted((t == failed, k, s) for t, k, s in rows) == [(False, "agent", "Success"), (True, "agent", "Failed")]
    assert ok in {t for t, _, _ in rows}
    kinds = _kinds(store)
    assert [kinds[n][0] for n in ("lone chat", "grpc call", "internal")] == ["other", "other", "other"]
    agents = _get(client, "/api/executions?kind=agent")["items"]
    assert sorted(e["status"] for e in agents if e["name"] == "support_agent") == ["Failed", "Success"]


# --- 5, 6. usage of other clients ----------------------------------------------------------------------------


def test_reasoning_tokens_under_the_traceloop_name_are_read(store):
    """traceloop-sdk (semconv_ai) and OpenLIT's Responses API path write gen_ai.usage.reasoning_tokens: those
    tokens are reasoning (priced at its rate, out of the visible output), the current GenAI name first."""
    spans = Spans()
    traceloop = spans.run("traceloop", _chat("o3-mini", **{sc.GEN_AI_USAGE_INPUT_TOKENS: "100",
                                                           sc.GEN_AI_USAGE_OUTPUT_TOKENS: "300",
                                                           sc.GEN_AI_USAGE_REASONING_TOKENS: "200"}))
    both = spans.run("both", _chat("o3-mini", **{sc.GEN_AI_USAGE_OUTPUT_TOKENS: "300",
                                                 sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: "250",
                                                 sc.GEN_AI_USAGE_REASONING_TOKENS: "200"}))
    spans.write(store)
    rows = dict(store.pool.query(
        f"SELECT TraceId, (ReasoningTokens, VisibleOutputTokens, TotalTokens) FROM {store.table('execlog_llm_costs')}"
    ).result_rows)
    assert rows == {traceloop: (200, 100, 400), both: (250, 50, 300)}
    rollup = store.pool.query(f"SELECT sum(ReasoningTokens) FROM {store.table('execlog_trace_rollups')} "
                              "WHERE TraceId = {t:String}", parameters={"t": traceloop}).result_rows
    assert rollup == [(200,)]


def test_an_aggregate_spans_model_is_not_one_of_the_attempts_models(store):
    """OpenLIT's invoke_workflow span names the dated model its call answered with: one streaming call listed
    ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]. Its tokens were already left out; its model is now too."""
    spans = Spans()
    run, root = spans.span("invoke_workflow fw_stream", {
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW, sc.GEN_AI_WORKFLOW_NAME: "fw_stream",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini-2024-07-18", sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        sc.GEN_AI_USAGE_INPUT_TOKENS: "1500"}, scope=LANGGRAPH_SCOPE)
    spans.span("chat gpt-4o-mini", _chat(**{sc.GEN_AI_USAGE_INPUT_TOKENS: "1500"}), trace_id=run, parent=root,
               kind="Client")
    # Recorded by execlog, an invoke_agent root is no aggregate: its model counts.
    own, _ = spans.span("agent", {sc.KIND: "agent", sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
                                  sc.GEN_AI_REQUEST_MODEL: "o3-mini"})
    spans.write(store)
    models = dict(store.pool.query(f"SELECT TraceId, groupUniqArrayArray(Models) FROM "
                                   f"{store.table('execlog_trace_rollups')} GROUP BY TraceId").result_rows)
    assert models == {run: [MODEL], own: ["o3-mini"]}
