"""The benchmark harness works end to end at its smoke size (no durations asserted: CI machines vary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the harness is a top-level package next to src/, not installed
    sys.path.insert(0, str(ROOT))


@pytest.mark.slow
def test_harness_writes_a_report_with_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--size", "smoke", "--out", str(out),
                           "--data-root", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text()
    results = json.loads(out.with_suffix(".json").read_text())
    assert "CPUs" in report and "RAM" in report
    for label in ("µs per `step()`", "Exporter: spans/s", "OTLP ingest", "default page", "status filter",
                  "search", "24-hour range", "next page (cursor)", "1000-step execution", "Quick View next",
                  "bytes on disk per span", "ClickHouse HTTP endpoint", "insights: status_over_time",
                  "insights: cost_by_name", "insights: slowest_steps", "Big execution: detail header + first page",
                  "Big execution: page of 200 steps by subtree", "Big execution: compare of two"):
        assert label in report, label
    # Every span the harness wrote is accounted for: nothing lost, nothing doubled.
    assert [b["batch"] for b in results["exporter"]["by_batch"]] == [512, 8192]
    for exp in results["exporter"]["by_batch"]:
        assert exp["stored"] == exp["expected"]
    for mode in ("exporter", "preencoded"):
        ing = results["ingest"][mode]
        assert ing["failed"] == 0 and ing["stored"] == ing["sent"] > 0
    # The acknowledgement round and, beside it, the disk's own fsync at the same pace (its baseline).
    ack = results["ingest"]["ack"]
    assert ack["failed"] == 0 and ack["ms"]["n"] > 0 and ack["fsync_ms"]["n"] == ack["ms"]["n"]
    assert "the disk alone" in report
    (listing,) = results["listing"]
    assert listing["storage"]["tables"]["otel_traces"]["rows"] == listing["spans"]
    assert listing["storage"]["tables"]["execlog_executions"]["rows"] >= listing["executions"]
    for name, s in listing["cases"].items():
        assert s["n"] >= 1 and 0 < s["p50"] <= s["max"], name
    assert results["sdk"]["sdk_us"]["p50"] > 0 and results["sdk"]["bare_us"]["p50"] > 0
    (ch,) = results["clickhouse"]
    assert ch["queries"] >= 20 and all(c["endpoint"]["n"] >= 1 for c in ch["cases"].values())
    assert results["big"]["steps"] > 5_000 and all(c["n"] >= 1 for c in results["big"]["cases"].values())


def test_harness_rejects_an_unknown_measurement() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "sdk,warp"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown measurement(s) warp" in proc.stderr


def _reference(store, where: str = "", params: dict | None = None) -> list[str]:
    """Every matching execution id, newest first, read the plain way (FINAL over the whole table)."""
    sql = (f"SELECT ExecutionId FROM {store.table('execlog_executions')} FINAL {where} "
           "ORDER BY Start DESC, ExecutionId DESC")
    return [r[0] for r in store.pool.query(sql, parameters=params or {}).result_rows]


def _walk(client, **query) -> tuple[list[str], int]:
    """All ids of a listing, page after page through next_cursor, and the count of the first page."""
    ids, cursor, count = [], None, None
    while True:
        args = {**query, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/executions", query_string=args).get_json()
        count = page["count"] if count is None else count
        ids += [it["id"] for it in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids, count


def test_fast_listing_paths_agree_with_a_plain_final_read(store, settings) -> None:
    """The listing's shortcuts (start-time windows, search narrowing, counts without FINAL) return
    exactly what a plain FINAL read returns, over a month of generated executions of every status."""
    from benchmarks.dataset import generate

    from execlog_otel.viewer.app import create_app

    generate(store, 3_000, chunk_executions=1_000, log=lambda _m: None)
    client = create_app(settings, store, receiver=False).test_client()
    search = "(" + " OR ".join(f"positionCaseInsensitiveUTF8({column}, {{q:String}}) > 0"
                               for column in ("RequestId", "TargetRecordId", "Target", "Event", "Name")) + ")"
    some_request = store.pool.query(
        f"SELECT RequestId FROM {store.table('execlog_executions')} WHERE RequestId != '' LIMIT 1").result_rows[0][0]
    cases = [
        ({}, "", {}),
        ({"status": "Running,Paused"}, "WHERE Status IN ('Running', 'Paused')", {}),
        ({"q": "e"}, f"WHERE {search}", {"q": "e"}),  # matches most: the start-time windows
        ({"q": "SYNC"}, f"WHERE {search}", {"q": "SYNC"}),  # matches few: narrowed by their starts
        ({"q": some_request}, f"WHERE {search}", {"q": some_request}),
        ({"q": "Invoice", "status": "Failed"}, f"WHERE {search} AND Status = 'Failed'", {"q": "Invoice"}),
    ]
    for query, where, params in cases:
        expected = _reference(store, where, params)
        got, count = _walk(client, **query)
        assert got == expected, query
        assert count == min(len(expected), 10_000), query
    assert len(_reference(store, f"WHERE {search}", {"q": "e"})) > 1_000  # the windows path was taken
