"""Helpers shared by the reliability and security tests: OTLP bodies, HTTP calls, ``execlog serve`` subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    env.update(extra)
    return env


class ServeProcess:
    """``execlog serve`` as a real subprocess on a data directory; ``url`` once it listens."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 60,
                 verbose: bool = False):
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{time.time_ns()}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "execlog_otel.cli", *(["-v"] if verbose else []), "serve",
             "--data", str(data_dir), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=self._log, env=env or clean_env())
        self.url = ""
        deadline = time.monotonic() + timeout_s
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            m = re.search(r"viewer:\s+(http://\S+?)/?$", line.strip())
            if m:
                self.url = m.group(1)
                break
        if not self.url:
            self.proc.kill()
            raise AssertionError(f"execlog serve did not start: {''.join(lines)} {self.stderr()}")

    def stderr(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


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
