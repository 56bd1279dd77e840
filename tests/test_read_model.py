"""The read path's rules: each derived fact defined once in SQL (so the listing's rollups and the detail's
steps agree), attribute names only from semconv, ClickHouse errors told apart by their code."""

from __future__ import annotations

import dataclasses
import gc
import re
import weakref
from importlib import resources

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from execlog_otel import semconv as sc
from execlog_otel.store import errors, records, sqlfiles
from execlog_otel.store.model import Step
from execlog_otel.viewer.app import create_app
from viewer_support import SECOND, SpanWriter, StepSpec, now_ns


def sql_files() -> list[tuple[str, str]]:
    root = resources.files(sqlfiles.SQL_PACKAGE)
    out = []
    for entry in [*root.iterdir(), *root.joinpath("read").iterdir(), *root.joinpath("facts").iterdir()]:
        if entry.name.endswith(".sql"):
            out.append((entry.name, entry.read_text(encoding="utf-8")))
    return out


def test_attribute_names_reach_sql_only_from_semconv():
    literal = re.compile(r"Attributes\[\s*'")
    offenders = [name for name, text in sql_files() if literal.search(sqlfiles.strip_comments(text))]
    assert offenders == []
    used = {m for _, text in sql_files() for m in re.findall(r"\{attr\.([A-Z0-9_]+)\}", text)}
    assert used and all(isinstance(getattr(sc, name, None), str) for name in used)


def test_a_step_failed_by_its_status_counts_as_failed_in_the_listing_and_the_detail(store, settings):
    """A nested execution records ``execlog.status`` on its span, not ``execlog.step.status``: the listing's
    failed-step count and the step shown in the detail read the same fact."""
    writer = SpanWriter(store)
    eid, _ = writer.execution("nested-parent", start_ns=now_ns() - 60 * SECOND, status="Partially Executed", steps=[
        StepSpec("child run", offset_ms=1, attrs={sc.STATUS: "Failed"}),
        StepSpec("db call", offset_ms=10, attrs={sc.DB_SYSTEM_NAME: "postgresql"}),
        StepSpec("skipped child", offset_ms=20, attrs={sc.STATUS: "Skipped"}),
    ])
    writer.close()
    client = create_app(settings, store, receiver=False).test_client()
    listed = client.get("/api/executions").get_json()["items"][0]
    detail = client.get(f"/api/executions/{eid}").get_json()
    quick = client.get(f"/api/executions/{eid}?steps=false").get_json()
    assert [s["status"] for s in detail["steps"]] == ["Failed", "Success", "Skipped"]
    assert (listed["failed_steps"], listed["skipped_steps"]) == (1, 1)
    assert [(p["name"], p["status"]) for p in quick["problem_steps"]] == [("child run", "Failed"),
                                                                          ("skipped child", "Skipped")]
    # An internal span naming a database is not a connector call; the rollup and the step agree on that too.
    assert listed["connectors"] == [] and [s["connector"] for s in detail["steps"]] == ["", "", ""]


def test_the_latest_attempt_is_the_executions_state_even_when_an_earlier_attempt_ends_later(store, settings):
    """A busy worker can end attempt 1's root after attempts 2 and 3 have ended (a retry is sent before the
    failed run is wrapped up): the listing and the detail show attempt 3, not the root that ended last."""
    writer = SpanWriter(store)
    start = now_ns() - 60 * SECOND
    eid = "5e1ec7ed0000000000000000000000a1"
    ends = {1: start + 9 * SECOND, 2: start + 4 * SECOND, 3: start + 6 * SECOND}
    for attempt in (2, 3, 1):  # stored in the order they ended
        begin = start + attempt * SECOND
        writer.execution("late-first-attempt", status="Success" if attempt == 3 else "Failed",
                         start_ns=begin, duration_ms=(ends[attempt] - begin) / 1e6,
                         attrs={sc.RETRY_OF: eid, sc.ATTEMPT: attempt,
                                sc.EXECUTION_START: start})
    writer.close()
    client = create_app(settings, store, receiver=False).test_client()
    listed = client.get("/api/executions?name=late-first-attempt").get_json()["items"]
    detail = client.get(f"/api/executions/{eid}").get_json()
    assert [(i["attempt"], i["status"]) for i in listed] == [(3, "Success")]
    assert (detail["attempt"], detail["status"]) == (3, "Success")
    assert [(a["attempt"], a["status"]) for a in detail["attempts"]] == [(1, "Failed"), (2, "Failed"),
                                                                         (3, "Success")]


def test_the_detail_shows_the_resource_of_the_root_or_of_the_live_state_marker(store, settings):
    """The resource attributes are read on the root and state markers only (read/trace_spans.sql): a finished
    execution shows its root's, a running one its newest marker's, and steps still come whole."""
    writer = SpanWriter(store, service="resource-shown")
    start = now_ns() - 60 * SECOND
    done, _ = writer.execution("finished-run", start_ns=start, steps=[StepSpec("one", offset_ms=1),
                                                                      StepSpec("two", offset_ms=2)])
    live, root = writer.execution("running-run", start_ns=start + SECOND, end=False)
    writer.marker(root, "Running", at_ns=start + SECOND + 1_000_000, execution_start_ns=start + SECOND,
                  name="running-run")
    writer.close()
    client = create_app(settings, store, receiver=False).test_client()
    finished = client.get(f"/api/executions/{done}").get_json()
    running = client.get(f"/api/executions/{live}").get_json()
    assert finished["resource"]["service.name"] == "resource-shown"
    assert [s["name"] for s in finished["steps"]] == ["one", "two"]
    assert (running["status"], running["resource"]["service.name"]) == ("Running", "resource-shown")


def test_clickhouse_errors_are_told_apart_by_their_code(store):
    with pytest.raises(DatabaseError) as timeout:
        store.pool.query("SELECT sleepEachRow(0.5) FROM numbers(4)", settings={"max_execution_time": 0.2})
    assert errors.error_code(timeout.value) in (errors.Code.TIMEOUT_EXCEEDED, errors.Code.TOO_SLOW)
    assert errors.is_timeout(timeout.value)
    with pytest.raises(DatabaseError) as unknown:
        store.pool.query("SELECT no_such_function_here(1)")
    assert errors.is_unknown_function(unknown.value) and not errors.is_timeout(unknown.value)
    assert not errors.is_unreachable(unknown.value) and errors.error_code(ValueError("Code: 159")) is None


def _span_row(span_id: str, parent_id: str, start_ns: int) -> dict:
    """A row of read/trace_spans.sql with its facts (read/span_facts.sql), as the repository hands it over."""
    return {"SpanId": span_id, "ParentSpanId": parent_id, "SpanName": f"step {span_id}", "SpanKind": "Internal",
            "ServiceName": "svc", "StartNs": start_ns, "Duration": 1_000, "StatusCode": "Unset",
            "StatusMessage": "", "SpanAttributes": {}, "ScopeName": "", "Resource": {}, "EventTimes": [],
            "EventNames": [], "EventAttrs": [], "LinkTraceIds": [], "LinkSpanIds": [], "IsMarker": 0,
            "StepKind": "action", "StepStatus": "Success", "Connector": "", "Model": "", "Tool": "",
            "InputTokens": 0, "OutputTokens": 0, "TotalTokens": 0, "RootStatus": "", "AttemptNumber": 0,
            "Input": "", "Output": "", "IsTransport": False}


def _chain(steps: int) -> list[dict]:
    rows = [_span_row("root", "", 0)]
    rows += [_span_row(f"s{i}", "root" if i == 0 else f"s{i - 1}", i + 1) for i in range(steps)]
    return rows


def test_a_chain_as_deep_as_the_detail_shows_is_one_step_per_level():
    """A step that calls the next, a thousand deep (a recursive agent): the detail's tree is built without
    recursion (a recursive walk ended in RecursionError, answered 500)."""
    root, steps, _ = records.step_tree(_chain(1_500))
    assert root["SpanId"] == "root"
    assert [s.depth for s in steps] == list(range(1_500))
    assert [s.span_id for s in steps] == [f"s{i}" for i in range(1_500)]


def test_a_step_tree_is_freed_as_soon_as_it_is_dropped():
    """No reference cycle holds a request's rows and steps until the garbage collector runs (a recursive
    closure did: a fifth of a big detail's time went to collections)."""
    gc.disable()
    try:
        _, steps, _ = records.step_tree(_chain(50))
        first = weakref.ref(steps[0])
        del steps
        assert first() is None
    finally:
        gc.enable()


def test_a_step_built_on_the_fast_path_has_every_field_of_the_model():
    """``model.construct`` skips the dataclass's __init__: a step made so must still have each field, equal to one
    made by the constructor."""
    (_, [step], _) = records.step_tree([_span_row("root", "", 0), _span_row("a", "root", 5)])
    assert set(vars(step)) == {f.name for f in dataclasses.fields(Step)}
    assert step == Step(**vars(step))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.name = "changed"  # type: ignore[misc]
