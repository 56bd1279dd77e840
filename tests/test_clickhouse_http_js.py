"""The official ClickHouse JavaScript client, ``@clickhouse/client`` (installed by .ci/run with ``npm ci`` in
tests/js), against ``execlog serve``'s ClickHouse HTTP endpoint. Without node or that install the test
fails: it says what to run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import sql_fixture_data as fx

JS_DIR = Path(__file__).resolve().parent / "js"


def run_js(*args: str) -> dict:
    node = shutil.which("node")
    assert node, "node is not installed: the @clickhouse/client test needs Node.js 20+ (see .ci/run)"
    assert (JS_DIR / "node_modules" / "@clickhouse" / "client").is_dir(), \
        "@clickhouse/client is not installed: run `npm ci --prefix tests/js` (as .ci/run does)"
    done = subprocess.run([node, str(JS_DIR / "check.mjs"), *args], capture_output=True, text=True, timeout=180,
                          cwd=JS_DIR)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_official_js_client(server, store):
    fx.load(store)
    out = run_js(server.clickhouse_http.url, store.database)
    assert "error" not in out, out
    assert out["ping"] is True
    services = {row["ServiceName"]: int(row["spans"]) for row in out["services"]}
    assert set(services) == {fx.AGENTS_SVC, fx.CRM_SVC, fx.BILLING_SVC} and all(services.values())
    assert [int(row["n"]) for row in out["bound"]] == [0]  # the hostile value is data, not SQL
    assert out["compact"] == [["one", "s"], ["UInt8", "String"], [1, "a\tb"]]
    assert out["streamed_rows"] == 500_000
    assert out["drop"]["code"] == "164" and out["drop"]["type"] == "READONLY"
    assert out["url"]["code"] == "164"
