"""Browsing while ingesting, at a small size: every answer is 2xx (the 50-client run is benchmarks/load.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_viewer_clients_browse_without_errors_while_spans_are_ingested():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    run = subprocess.run([sys.executable, "-m", "benchmarks.load", "--seconds", "4", "--rate", "2000",
                          "--clients", "10"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    result = json.loads(run.stdout.strip().splitlines()[-1].removeprefix("BENCH-RESULT "))
    assert run.returncode == 0, result["error_samples"]
    assert (result["ingest_errors"], result["viewer_errors"]) == (0, 0)
    assert result["ingested_spans_per_s"] > 0 and result["ingest_ms"]["n"] > 0
    assert {k for k, v in result["viewer_ms"].items() if v["n"] > 0} == {"detail", "listing", "pages", "status"}
