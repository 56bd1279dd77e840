"""The read path's rules: each derived fact defined once in SQL (so the listing's rollups and the detail's
steps agree), attribute names only from semconv, ClickHouse errors told apart by their code."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from execlog_otel import semconv as sc
from execlog_otel.store import errors, sqlfiles
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


def test_clickhouse_errors_are_told_apart_by_their_code(store):
    with pytest.raises(DatabaseError) as timeout:
        store.pool.query("SELECT sleepEachRow(0.5) FROM numbers(4)", settings={"max_execution_time": 0.2})
    assert errors.error_code(timeout.value) in (errors.Code.TIMEOUT_EXCEEDED, errors.Code.TOO_SLOW)
    assert errors.is_timeout(timeout.value)
    with pytest.raises(DatabaseError) as unknown:
        store.pool.query("SELECT no_such_function_here(1)")
    assert errors.is_unknown_function(unknown.value) and not errors.is_timeout(unknown.value)
    assert not errors.is_unreachable(unknown.value) and errors.error_code(ValueError("Code: 159")) is None
