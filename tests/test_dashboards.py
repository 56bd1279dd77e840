"""Grafana dashboards: structure, and every panel's SQL proven against the embedded ClickHouse engine.

Panel SQL is expanded the way a query travels through Grafana and the ClickHouse plugin:

1. ``$__conditionalAll(condition, $var)`` -- frontend, ``Datasource.applyConditionalAll`` in
   grafana/clickhouse-datasource ``src/data/CHDatasource.ts``: innermost-last (``lastIndexOf``)
   macro, arguments split at top-level commas, replaced by ``1=1`` when the variable's current value
   is ``''`` or ``'$__all'``, else by the condition text.
2. Template variables -- ``getTemplateSrv().replace(sql, scopedVars, this.format)``: ``$var``,
   ``${var}`` and ``${var:format}``; the plugin's own ``format`` renders an array as
   ``'a','b'`` and a single value as is; Grafana's ``singlequote`` format quotes each value and
   escapes ``'`` as ``\\'``. Unknown names (``$__timeFilter`` ...) are left alone.
3. Backend macros -- grafana/clickhouse-datasource ``pkg/macros/macros.go`` through
   grafana/sqlds ``interpolate`` (regex ``\\$__name(?:\\((.*?)\\))?``, arguments split at commas and
   trimmed): ``$__timeFilter(c)`` -> ``c >= toDateTime(from) AND c <= toDateTime(to)``,
   ``$__fromTime``/``$__toTime`` -> ``toDateTime(unix)``, ``$__timeInterval(c)`` ->
   ``toStartOfInterval(toDateTime(c), INTERVAL n second)``, ``$__interval_s`` -> ``n`` (at least 1).
"""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import sql_fixture_data as fx
from execlog_otel import semconv as sc
from execlog_otel.config import Settings
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
DASH_DIR = ROOT / "dashboards"
FILES = ("execution-overview.json", "agents.json", "automations.json")
PLUGIN = "grafana-clickhouse-datasource"
INTERVAL_S = 3600  # every recent fixture execution falls into the bucket starting at T0


# --- the expander ----------------------------------------------------------------------------------
def _macro_args(sql: str, open_paren: int) -> list[str]:
    """CHDatasource.getMacroArgs: split at commas on bracket depth 1, up to the closing paren."""
    args, depth, last = [], 0, open_paren + 1
    for m in re.finditer(r"[(),]", sql[open_paren:]):
        i = open_paren + m.start()
        ch = m.group(0)
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 1:
            args.append(sql[last:i])
            last = i + 1
        if depth == 0:
            args.append(sql[last:i])
            return args
    return []


def apply_conditional_all(sql: str, current: dict[str, Any]) -> str:
    macro = "$__conditionalAll("
    idx = sql.rfind(macro)
    while idx != -1:
        params = _macro_args(sql, idx + len(macro) - 1)
        if len(params) != 2:
            return sql
        var = re.search(r"(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+", params[1].strip())
        phrase = params[0]
        if var:
            value = current.get(var.group(0))
            text = ",".join(value) if isinstance(value, list) else str(value if value is not None else "")
            if text in ("", "$__all"):
                phrase = "1=1"
        sql = sql.replace(f"{macro}{params[0]},{params[1]})", phrase, 1)
        idx = sql.rfind(macro)
    return sql


def _singlequote(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ",".join("'" + str(v).replace("'", "\\'") + "'" for v in values)


def _plugin_format(value: Any) -> str:
    """CHDatasource.format: arrays become 'a','b'; single values stay as they are."""
    if isinstance(value, list):
        return "'" + "','".join(str(v) for v in value) + "'"
    return str(value)


_VAR = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")


def replace_variables(sql: str, current: dict[str, Any], options: dict[str, list[str]]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        if name not in current:
            return m.group(0)
        value = current[name]
        if value == ["$__all"] or value == "$__all":
            value = options[name]  # no custom all value: every option
        if fmt == "singlequote":
            return _singlequote(value)
        if fmt == "raw":
            return ",".join(value) if isinstance(value, list) else str(value)
        assert fmt is None, f"format {fmt} not mirrored in this test"
        return _plugin_format(value)

    return _VAR.sub(sub, sql)


def expand_macros(sql: str, t_from: datetime, t_to: datetime, interval_s: int) -> str:
    f, t = int(t_from.timestamp()), int(t_to.timestamp())
    interval = max(interval_s, 1)

    def one_arg(name: str, fn) -> None:
        nonlocal sql
        for m in list(re.finditer(rf"\$__{name}(?:\((.*?)\))?", sql)):
            args = [a.strip() for a in (m.group(1) or "").split(",")] if m.group(1) is not None else []
            sql = sql.replace(m.group(0), fn(args), 1)

    one_arg("timeFilter", lambda a: f"{a[0]} >= toDateTime({f}) AND {a[0]} <= toDateTime({t})")
    one_arg("timeInterval", lambda a: f"toStartOfInterval(toDateTime({a[0]}), INTERVAL {interval} second)")
    one_arg("fromTime", lambda a: f"toDateTime({f})")
    one_arg("toTime", lambda a: f"toDateTime({t})")
    one_arg("interval_s", lambda a: str(interval))
    assert "$__" not in sql, f"a macro is left unexpanded: {sql}"
    return sql


def expand(sql: str, current: dict[str, Any], options: dict[str, list[str]], t_from: datetime,
           t_to: datetime, interval_s: int = INTERVAL_S) -> str:
    sql = apply_conditional_all(sql, current)
    sql = replace_variables(sql, current, options)
    return expand_macros(sql, t_from, t_to, interval_s)


def test_expander_mirrors_the_plugin():
    vars_ = {"kind": ["$__all"], "name": ["a'b", "c"], "service": "svc"}
    opts = {"kind": ["agent", "automation"], "name": ["a'b", "c"], "service": ["svc"]}
    sql = ("WHERE $__conditionalAll(Kind IN (${kind:singlequote}), $kind) AND "
           "$__conditionalAll(Name IN (${name:singlequote}), $name) AND S = '$service' AND $__timeFilter(Start)"
           " GROUP BY $__timeInterval(Start) / $__interval_s")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out = expand(sql, vars_, opts, t0, t0 + timedelta(hours=1), 60)
    assert out == ("WHERE 1=1 AND Name IN ('a\\'b','c') AND S = 'svc' AND Start >= toDateTime(1767225600) AND "
                   "Start <= toDateTime(1767229200) GROUP BY toStartOfInterval(toDateTime(Start), INTERVAL 60 second)"
                   " / 60")


# --- structure -----------------------------------------------------------------------------------
def load_dashboards() -> dict[str, dict]:
    return {name: json.loads((DASH_DIR / name).read_text(encoding="utf-8")) for name in FILES}


def test_dashboard_files_match_their_builder():
    spec = importlib.util.spec_from_file_location("dash_build", DASH_DIR / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for filename, builder in build.DASHBOARDS.items():
        assert (DASH_DIR / filename).read_text(encoding="utf-8") == build.render(builder), \
            f"{filename} is stale: run python dashboards/build.py"


def test_dashboards_are_structurally_valid():
    dashboards = load_dashboards()
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids) == 3
    provisioned = yaml.safe_load((DASH_DIR / "provisioning/datasources/clickhouse.yaml").read_text())
    ds_uid = provisioned["datasources"][0]["uid"]
    for name, d in dashboards.items():
        assert isinstance(d["schemaVersion"], int) and d["schemaVersion"] >= 36, name
        assert d["title"] and d["time"]["from"] and d["templating"]["list"]
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == PLUGIN
        assert variables["datasource"]["current"]["value"] == ds_uid  # the provisioned data source
        assert {"database", "viewer_url", "name", "service", "trace_id"} <= variables.keys()
        ids = [p["id"] for p in d["panels"]]
        assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
        for p in d["panels"]:
            where = f"{name} / {p['title']}"
            assert p["datasource"] == {"type": PLUGIN, "uid": "${datasource}"}, where
            assert p["targets"], f"{where}: no target"
            for t in p["targets"]:
                assert t["datasource"] == p["datasource"], where
                assert t["editorType"] == "sql" and t["rawSql"].strip(), where
                assert t["format"] in (0, 1, 3), where
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, where
        for v in variables.values():
            if v["type"] == "query":
                assert v["datasource"] == {"type": PLUGIN, "uid": "${datasource}"}
    # Every dashboard has the trace view in the plugin's OTel trace mode, or links to one.
    trace_panels = [p for d in dashboards.values() for p in d["panels"] if p["type"] == "traces"]
    assert len(trace_panels) >= 2
    assert all(p["targets"][0]["format"] == 3 and p["targets"][0]["queryType"] == "traces" for p in trace_panels)


def test_provisioning_files():
    ds = yaml.safe_load((DASH_DIR / "provisioning/datasources/clickhouse.yaml").read_text())
    assert ds["apiVersion"] == 1
    source = ds["datasources"][0]
    assert source["type"] == PLUGIN
    json_data = source["jsonData"]
    settings = Settings.from_env(environ={})
    assert json_data["defaultDatabase"] == settings.database
    traces = json_data["traces"]
    assert traces["otelEnabled"] is True and traces["defaultTable"] == "otel_traces"
    assert traces["defaultDatabase"] == settings.database
    assert traces["durationUnit"] == "nanoseconds"
    assert {traces["traceIdColumn"], traces["spanIdColumn"], traces["parentSpanIdColumn"],
            traces["serviceNameColumn"], traces["operationNameColumn"], traces["startTimeColumn"],
            traces["durationColumn"], traces["tagsColumn"], traces["serviceTagsColumn"]} == {
        "TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "Timestamp", "Duration",
        "SpanAttributes", "ResourceAttributes"}
    provider = yaml.safe_load((DASH_DIR / "provisioning/dashboards/execlog.yaml").read_text())
    assert provider["apiVersion"] == 1
    prov = provider["providers"][0]
    assert prov["type"] == "file" and prov["options"]["path"]


# --- every panel against the engine ---------------------------------------------------------------
@pytest.fixture
def loaded(store):
    return fx.load(store)


def _options(store, d: dict, current: dict, t_from, t_to) -> dict[str, list[str]]:
    """Run each query variable (as Grafana does) to learn its options, in dashboard order."""
    options: dict[str, list[str]] = {}
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            sql = expand(v["query"], current, options, t_from, t_to)
            options[v["name"]] = [r[0] for r in store.pool.query(sql).result_rows]
    return options


def run_panels(store, d: dict, t0: datetime, **selected) -> dict[str, Any]:
    """Every panel's result, keyed by title, under the given variable selection (default All)."""
    t_from, t_to = t0 - timedelta(hours=1), datetime.now(UTC)
    current: dict[str, Any] = {"database": store.database, "viewer_url": "http://viewer.test",
                               "kind": ["$__all"], "name": ["$__all"], "service": ["$__all"],
                               "trace_id": selected.pop("trace_id", "")}
    current.update(selected)
    options = _options(store, d, current, t_from, t_to)
    out = {}
    for p in d["panels"]:
        sql = expand(p["targets"][0]["rawSql"], current, options, t_from, t_to)
        result = store.pool.query(sql)
        out[p["title"]] = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    out["__options__"] = options
    return out


def test_overview_panels(store, loaded):
    d = load_dashboards()["execution-overview.json"]
    t0 = loaded.t0.replace(tzinfo=None)
    r = run_panels(store, d, loaded.t0, trace_id=loaded.tid("A3"))
    assert r["__options__"]["kind"] == ["agent", "automation"]
    assert r["__options__"]["service"] == ["billing", "ops-automations", "support-agents"]
    # B3 (three days old) is outside the time range; A4's retry is one execution.
    by_status = {row["Status"]: row["executions"] for row in r["Executions over time by status"]}
    assert {row["time"] for row in r["Executions over time by status"]} == {t0}
    assert by_status == {"Success": 6, "Failed": 2, "Partially Executed": 1, "Rejected": 1, "Running": 1}
    assert r["Success rate"][0]["success_rate"] == pytest.approx(6 / 10)
    assert r["Failures"] == [{"failed": 3, "partially_executed": 1}]
    assert r["Retries"] == [{"retried": 1, "succeeded_on_retry": 1}]
    durations = {(row["kind"], row["name"]): (row["executions"], row["p50_ms"], row["p95_ms"])
                 for row in r["Duration p50 / p95 per agent and automation"]}
    assert durations == {
        ("agent", "legacy-agent"): (1, 1000, 1000),
        ("agent", "research-agent"): (2, 6000, 6000),  # A3 6 s, A4's latest attempt 5 s
        ("agent", "triage-agent"): (2, 4000, 4000),
        ("automation", "invoice-run"): (2, 10000, 10000),  # B6 is still running: left out
        ("automation", "sync-crm"): (3, 1500, 2000),
    }
    p95 = {row["kind"]: row["p95_ms"] for row in r["p95 duration over time"]}
    assert p95 == {"agent": 6000, "automation": 10000}
    failed = r["Recent failed executions"]
    assert [row["name"] for row in failed] == ["sync-crm", "invoice-run", "triage-agent"]  # B7, B4, A2
    assert [row["execution_id"] for row in failed] == [loaded.eid("B7"), loaded.eid("B4"), loaded.eid("A2")]
    assert [row["failed_steps"] for row in failed] == [1, 1, 1]
    assert failed[1]["status"] == "Rejected" and failed[1]["message"] == "ran past its time budget of 10 s"
    trace = r["Trace of the selected execution"]
    assert len(trace) == 6  # A3: root + 5 steps
    root = next(s for s in trace if s["parentSpanID"] == "")
    assert root["operationName"] == "research-agent" and root["duration"] == pytest.approx(6000)
    assert {"key": "execlog.kind", "value": "agent"} in root["tags"]
    assert {"key": "service.name", "value": fx.AGENTS_SVC} in root["serviceTags"]
    # Cost (USD per million tokens: gpt-4o 2.50/10, claude-sonnet-4 3/15, gpt-4o-mini 0.15/0.60,
    # gpt-3.5-turbo 0.50/1.50), the same figures the viewer shows.
    cost_by_model = {row["model"]: row["cost_usd"] for row in r["Cost over time by model"]}
    assert cost_by_model == pytest.approx({"gpt-4o": 0.00545, "claude-sonnet-4": 0.0105, "gpt-4o-mini": 0.000063,
                                           "gpt-3.5-turbo": 0.0000125})
    per_name = {(row["kind"], row["name"]): (row["executions"], row["cost_usd"], row["unpriced_steps"])
                for row in r["Cost per agent and automation"]}
    assert per_name == {("agent", "research-agent"): (2, pytest.approx(0.013763), 0),
                        ("agent", "triage-agent"): (2, pytest.approx(0.00225), 0),
                        ("agent", "legacy-agent"): (1, pytest.approx(0.0000125), 0)}
    listed = Repository(store).page(ListFilter(name="research-agent")).items
    assert sum(it.cost.usd for it in listed) == pytest.approx(per_name[("agent", "research-agent")][1])


def test_overview_variables_filter(store, loaded):
    d = load_dashboards()["execution-overview.json"]
    r = run_panels(store, d, loaded.t0, kind=["automation"], service=["billing"])
    assert r["__options__"]["name"] == ["invoice-run", "sync-crm"]  # names of the selected kind
    by_status = {row["Status"]: row["executions"] for row in r["Executions over time by status"]}
    assert by_status == {"Success": 1, "Rejected": 1, "Running": 1}
    assert r["Success rate"][0]["success_rate"] == pytest.approx(1 / 2)
    r = run_panels(store, d, loaded.t0, kind="agent", name=["triage-agent", "legacy-agent"])
    assert r["Failures"] == [{"failed": 1, "partially_executed": 0}]
    assert [row["name"] for row in r["Recent failed executions"]] == ["triage-agent"]


def test_failed_rows_link_to_the_viewer_detail_page(store, loaded, settings):
    from execlog_otel.viewer.app import create_app

    d = load_dashboards()["execution-overview.json"]
    table = next(p for p in d["panels"] if p["title"] == "Recent failed executions")
    links = {o["matcher"]["options"]: o["properties"][0]["value"][0]["url"] for o in table["fieldConfig"]["overrides"]}
    row = run_panels(store, d, loaded.t0)["Recent failed executions"][0]
    url = replace_variables(links["execution_id"].replace("${__value.raw}", row["execution_id"]),
                            {"viewer_url": "http://viewer.test"}, {})
    assert url == f"http://viewer.test/executions/{loaded.eid('B7')}"
    # ... which is the viewer's detail route, answering for this execution.
    app = create_app(settings, store, receiver=False)
    endpoint, args = app.url_map.bind("viewer.test").match(url.removeprefix("http://viewer.test"))
    assert args == {"execution_id": loaded.eid("B7")} and endpoint.startswith("pages.")
    assert "var-trace_id=${__value.raw}" in links["trace_id"]


def test_agents_panels(store, loaded):
    d = load_dashboards()["agents.json"]
    r = run_panels(store, d, loaded.t0)
    assert r["__options__"]["name"] == ["legacy-agent", "research-agent", "triage-agent"]
    tokens = {row["model"]: row["tokens"] for row in r["Tokens by model"]}
    # gpt-4o: A1 150 + A2 300 + A4 attempt 1 440 + attempt 2 480; gpt-3.5 via the deprecated names.
    assert tokens == {"gpt-4o": 1370, "claude-sonnet-4": 1500, "gpt-4o-mini": 330, "gpt-3.5-turbo": 15}
    assert {row["time"] for row in r["Tokens by model"]} == {loaded.t0.replace(tzinfo=None)}
    assert [(x["model"], x["executions"]) for x in r["Model mix"]] == [
        ("gpt-4o", 3), ("claude-sonnet-4", 1), ("gpt-3.5-turbo", 1), ("gpt-4o-mini", 1)]
    assert [(x["tool"], x["executions"]) for x in r["Top tools"]] == [("search_kb", 3), ("web_search", 2)]
    assert [(x["connector"], x["executions"]) for x in r["Top connectors"]] == [("notion", 1)]
    hungry = [(x["name"], x["tokens"], x["attempts"]) for x in r["Most token-hungry executions"]]
    # A4's two attempts add up: 440 + 480.
    assert hungry == [("research-agent", 1830, 1), ("research-agent", 920, 2), ("triage-agent", 300, 1),
                      ("triage-agent", 150, 1), ("legacy-agent", 15, 1)]
    assert r["Most token-hungry executions"][1]["execution_id"] == loaded.eid("A4")
    assert [(x["model"], x["priced_as"], x["calls"], x["tokens"]) for x in r["Cost by model"]] == [
        ("claude-sonnet-4", "claude-sonnet-4", 1, 1500), ("gpt-4o", "gpt-4o", 4, 1370),
        ("gpt-4o-mini", "gpt-4o-mini", 1, 330), ("gpt-3.5-turbo", "gpt-3.5-turbo", 1, 15)]
    r = run_panels(store, d, loaded.t0, name=["triage-agent"])
    assert {row["model"]: row["tokens"] for row in r["Tokens by model"]} == {"gpt-4o": 450}
    assert [(x["model"], x["cost_usd"]) for x in r["Cost by model"]] == [("gpt-4o", pytest.approx(0.00225))]
    assert [(x["tool"], x["executions"]) for x in r["Top tools"]] == [("search_kb", 2)]
    assert r["Top connectors"] == []


def test_automations_panels(store, loaded):
    d = load_dashboards()["automations.json"]
    t0 = loaded.t0.replace(tzinfo=None)
    r = run_panels(store, d, loaded.t0, trace_id=loaded.tid("B2"))
    assert r["__options__"]["name"] == ["invoice-run", "sync-crm"]
    assert r["__options__"]["service"] == ["billing", "ops-automations"]
    assert {(x["automation"], x["runs"]) for x in r["Runs per automation"]} == {("invoice-run", 3), ("sync-crm", 3)}
    assert r["Runs per automation by status"] == [
        {"automation": "invoice-run", "runs": 3, "success": 1, "failed": 0, "partially_executed": 0,
         "rejected": 1, "live": 1},
        {"automation": "sync-crm", "runs": 3, "success": 1, "failed": 1, "partially_executed": 1,
         "rejected": 0, "live": 0}]
    assert r["Throughput"] == [{"time": t0, "runs_per_minute": pytest.approx(6 * 60 / INTERVAL_S)}]
    assert r["Steps that fail most"] == [
        {"step": "update-record", "failures": 2, "runs": 2, "last_error": "validation failed: owner missing"},
        {"step": "send-invoices", "failures": 1, "runs": 1, "last_error": "time budget exceeded"}]
    assert r["Partially executed and rejected"] == [{"time": t0, "partially_executed": 1, "rejected": 1}]
    assert [(x["duration"], x["runs"]) for x in r["Duration distribution"]] == [("1-5 s", 4), ("5-30 s", 1)]
    trace = r["Trace of the selected execution"]
    assert len(trace) == 5 and sum(1 for s in trace if s["statusCode"] == 2) == 1  # B2: update-record failed
    # Narrow to one service: the billing automation only.
    r = run_panels(store, d, loaded.t0, service=["billing"])
    assert [x["step"] for x in r["Steps that fail most"]] == ["send-invoices"]
    assert [(x["duration"], x["runs"]) for x in r["Duration distribution"]] == [("1-5 s", 1), ("5-30 s", 1)]


def test_panels_read_the_derived_tables():
    """Execution-level panels read execlog_executions / execlog_trace_rollups, not a scan of otel_traces."""
    for d in load_dashboards().values():
        for p in d["panels"]:
            sql = p["targets"][0]["rawSql"]
            if "otel_traces" in sql and p["type"] != "traces":
                # Per-span questions only, and always bounded by the time filter (partition pruning).
                assert "$__timeFilter(Timestamp)" in sql, p["title"]
            if "execlog_executions" in sql:
                assert "execlog_executions FINAL" in sql, p["title"]
            if "execlog_trace_rollups" in sql:
                assert "GROUP BY TraceId" in sql, p["title"]


def test_every_panel_has_asserted_results():
    """Each panel's title is read from the results somewhere above, so no panel goes unproven."""
    source = Path(__file__).read_text(encoding="utf-8")
    asserted = set(re.findall(r'r\["([^"]+)"\]', source))
    for name, d in load_dashboards().items():
        for p in d["panels"]:
            assert p["title"] in asserted, f"{name}: panel {p['title']!r} has no expected values in this file"


def test_trace_view_hides_state_markers_and_reads_legacy_collector_values(store, loaded):
    """The live B6 has only its state marker so far: the trace view shows no span for it. Spans from
    Collector versions that wrote STATUS_CODE_ERROR / SPAN_KIND_CLIENT show as Error / Client."""
    from execlog_otel.store.rows import SpanColumns

    d = load_dashboards()["execution-overview.json"]
    assert run_panels(store, d, loaded.t0, trace_id=loaded.tid("B6"))["Trace of the selected execution"] == []
    cols = SpanColumns()
    start = int(loaded.t0.timestamp()) * fx.S + 5 * fx.S
    legacy = fx.trace_id("legacy-collector")
    common = dict(trace_id=legacy, trace_state="", service_name="old-collector", resource={}, scope_name="",
                  scope_version="", status_message="")
    cols.add(start_ns=start, end_ns=start + fx.S, span_id=fx.span_id("lc/root"), parent_span_id="", name="job",
             kind="SPAN_KIND_INTERNAL", attributes={}, status_code="STATUS_CODE_ERROR", **common)
    cols.add(start_ns=start, end_ns=start + fx.S // 2, span_id=fx.span_id("lc/http"),
             parent_span_id=fx.span_id("lc/root"), name="GET", kind="SPAN_KIND_CLIENT", attributes={},
             status_code="STATUS_CODE_OK", **common)
    store.insert_span_columns(cols.columns)
    trace = run_panels(store, d, loaded.t0, trace_id=legacy)["Trace of the selected execution"]
    assert sorted((s["operationName"], s["kind"], s["statusCode"]) for s in trace) == [
        ("GET", "Client", 1), ("job", "Internal", 2)]


def test_genai_metric_panels_read_the_collectors_metric_tables(store, loaded):
    """Token usage and call duration as GenAI instrumentations report them over OTLP metrics."""
    from otlp_signals_support import PROTOBUF, insert_metrics, sdk_metrics

    insert_metrics(store, sdk_metrics().SerializeToString(), PROTOBUF)
    r = run_panels(store, load_dashboards()["agents.json"], loaded.t0)
    assert {row["series"]: row["tokens"] for row in r["Token usage metric by model"]} == {
        "gpt-4o input": 120.0, "gpt-4o output": 30.0}
    assert [(row["model"], row["mean_seconds"]) for row in r["Model call duration metric"]] == [("gpt-4o", 1.5)]


def test_failing_steps_panel_counts_steps_by_the_steps_table_rule(store, loaded):
    """"Steps that fail most" takes which spans are failed steps from execlog_steps: an HTTP request that
    carries a model call (the SDK's transport span) is part of that call, so its failure is no failed step
    (as in the rollups, the detail page and the Insights), while a failed step of the same run counts."""
    from execlog_otel.store.rows import SpanColumns

    cols = SpanColumns()
    start = int(loaded.t0.timestamp()) * fx.S + 2600 * fx.S
    tid, root, call = fx.trace_id("B8"), fx.span_id("B8/root"), fx.span_id("B8/llm")
    common = dict(trace_id=tid, trace_state="", service_name=fx.CRM_SVC, resource={"service.name": fx.CRM_SVC},
                  scope_name="execlog_otel", scope_version="0.1.0")
    cols.add(start_ns=start, end_ns=start + 2 * fx.S, span_id=root, parent_span_id="", name="sync-crm",
             kind="Internal", attributes={sc.KIND: "automation", sc.EXECUTION_NAME: "sync-crm", sc.STATUS: "Failed"},
             status_code="Error", status_message="update-record failed", **common)
    llm = fx.llm("gpt-4o", 10, 5)
    cols.add(start_ns=start + fx.S // 10, end_ns=start + fx.S, span_id=call, parent_span_id=root, name=llm.name,
             kind="Internal", attributes=llm.attrs, status_code="Unset", status_message="", **common)
    # The model call's HTTP request failed once (the client retried it): transport, not a step.
    cols.add(start_ns=start + fx.S // 5, end_ns=start + fx.S // 4, span_id=fx.span_id("B8/http"),
             parent_span_id=call, name="POST", kind="Client",
             attributes={sc.HTTP_REQUEST_METHOD: "POST", "server.address": "api.openai.com"},
             status_code="Error", status_message="503 Service Unavailable", **common)
    cols.add(start_ns=start + fx.S + 1, end_ns=start + 2 * fx.S, span_id=fx.span_id("B8/update"),
             parent_span_id=root, name="update-record", kind="Internal",
             attributes={sc.STEP_KIND: sc.StepKind.ACTION, sc.STEP_STATUS: "Failed"},
             status_code="Error", status_message="owner missing again", **common)
    store.insert_span_columns(cols.columns)
    r = run_panels(store, load_dashboards()["automations.json"], loaded.t0)
    failing = {x["step"]: (x["failures"], x["runs"], x["last_error"]) for x in r["Steps that fail most"]}
    assert "POST" not in failing
    assert failing == {"update-record": (3, 3, "owner missing again"), "send-invoices": (1, 1, "time budget exceeded")}
