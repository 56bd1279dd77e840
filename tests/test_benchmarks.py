"""The benchmark harness works end to end at its smoke size (no durations asserted: CI machines vary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
                  "bytes on disk per span"):
        assert label in report, label
    # Every span the harness wrote is accounted for: nothing lost, nothing doubled.
    assert [b["batch"] for b in results["exporter"]["by_batch"]] == [512, 8192]
    for exp in results["exporter"]["by_batch"]:
        assert exp["stored"] == exp["expected"]
    for mode in ("exporter", "preencoded"):
        ing = results["ingest"][mode]
        assert ing["failed"] == 0 and ing["stored"] == ing["sent"] > 0
    (listing,) = results["listing"]
    assert listing["storage"]["tables"]["otel_traces"]["rows"] == listing["spans"]
    assert listing["storage"]["tables"]["execlog_executions"]["rows"] >= listing["executions"]
    for name, s in listing["cases"].items():
        assert s["n"] >= 1 and 0 < s["p50"] <= s["max"], name
    assert results["sdk"]["sdk_us"]["p50"] > 0 and results["sdk"]["bare_us"]["p50"] > 0


def test_harness_rejects_an_unknown_measurement() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "sdk,warp"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown measurement(s) warp" in proc.stderr
