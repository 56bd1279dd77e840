"""Helpers shared by the reliability and security tests: OTLP bodies, HTTP calls, stored span ids.

``execlog serve`` subprocesses are ``benchmarks.common.ServeProcess`` (shared with the benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import clean_env

from execlog_otel.store import rebuild

_COUNTER = [0]


def span_ids(n: int, prefix: int) -> list[tuple[str, str]]:
    """n (trace id, span id) pairs, unique per prefix and call."""
    out = []
    for _ in range(n):
        _COUNTER[0] += 1
        k = (prefix << 32) + _COUNTER[0]
        out.append((format(k, "032x"), format(k, "016x")))
    return out


def otlp_json(ids: list[tuple[str, str]], attributes: dict[str, str] | None = None, service: str = "reliability",
              name: str = "step") -> bytes:
    now = time.time_ns()
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (attributes or {}).items()]
    spans = [{"traceId": tid, "spanId": sid, "name": name, "kind": 1, "startTimeUnixNano": str(now),
              "endTimeUnixNano": str(now + 1000), "attributes": attrs} for tid, sid in ids]
    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                            "value": {"stringValue": service}}]},
                               "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}]}]}
    return json.dumps(body).encode()


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def post_spans(base_url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    status, _, data = http("POST", base_url + "/v1/traces", body,
                           {"Content-Type": "application/json", **(headers or {})})
    return status, data


DUMP_SCRIPT = """
import json, sys
from execlog_otel.store.store import Store
s = Store.open(sys.argv[1], sys.argv[2], migrate=False)
rows = s.pool.query("SELECT SpanId FROM " + s.table("otel_traces")).result_rows
print(json.dumps({"span_ids": [r[0] for r in rows]}))
"""


def stored_span_ids(data_dir: Path, database: str = "otel") -> list[str]:
    """Every SpanId in a data directory's store, read by a separate process (chDB: one directory per process)."""
    out = subprocess.run([sys.executable, "-c", DUMP_SCRIPT, f"chdb://{data_dir / 'clickhouse'}", database],
                         capture_output=True, text=True, timeout=120, env=clean_env())
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["span_ids"]


def as_json(data: bytes) -> Any:
    return json.loads(data.decode())


class TableAway:
    """A real outage of the store: otel_traces renamed away, so every insert fails (UNKNOWN_TABLE)."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        self.store.pool.command(f"RENAME TABLE {self.store.table('otel_traces')} TO "
                                  f"{self.store.table('otel_traces_away')}")
        return self

    def __exit__(self, *exc):
        self.store.pool.command(f"RENAME TABLE {self.store.table('otel_traces_away')} TO "
                                  f"{self.store.table('otel_traces')}")


def interrupt_rebuild(store: Any, monkeypatch: Any, table: str) -> None:
    """Cut the power twice while ``store.migrate()`` rebuilds ``table`` (store/rebuild.py): between dropping
    the second partition from the old table and moving it in, then while copying the first partition of what
    is left. Each time the table has already been swapped to its new layout, some rows still on their way."""
    real = store.pool.command
    calls = {"n": 0}

    def crash_at(statement: str, nth: int):
        def command(sql, *args, **kwargs):
            if statement in str(sql):
                calls["n"] += 1
                if calls["n"] == nth:
                    raise RuntimeError("power cut")
            return real(sql, *args, **kwargs)
        return command

    for statement, nth in (("MOVE PARTITION", 2), ("INSERT INTO", 1)):
        calls["n"] = 0
        monkeypatch.setattr(store.pool, "command", crash_at(statement, nth))
        try:
            store.migrate()
        except RuntimeError as err:
            assert str(err) == "power cut"
        else:
            raise AssertionError(f"the rebuild of {table} ran no {statement} to interrupt")
        finally:
            monkeypatch.setattr(store.pool, "command", real)
        assert rebuild.is_current(store, table)
