"""Helpers for the retry tests: executions written straight into the store, signed requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import urllib3

from execlog_otel import semconv as sc
from execlog_otel.retry import signing
from execlog_otel.retry.proof import attempt_proof
from execlog_otel.store.rows import SpanColumns

SECRET = "test-retry-secret"
RUNNER = Path(__file__).with_name("retry_runner.py")
WAIT_S = 60  # generous bound for a busy machine; tests finish as soon as the state is reached


def add_attempt(store, *, name: str, status: str, start_ns: int, execution_id: str | None = None, attempt: int = 1,
                execution_start_ns: int | None = None, payload: dict | None = None, fingerprint: str = "fp1",
                retry_url: str = "", response_step: bool = False, extra: dict | None = None,
                max_attempts: int | None = None, proof_secret: str = SECRET,
                resource_extra: dict | None = None) -> tuple[str, str]:
    """Write one attempt (root span + one step) as a runner would; returns (execution id, root span id).

    The root carries the proof a runner holding ``proof_secret`` records (empty: none, a forgery)."""
    trace_id = execution_id if attempt == 1 and execution_id else uuid.uuid4().hex
    root_id = uuid.uuid4().hex[:16]
    attrs = {sc.KIND: "automation", sc.EXECUTION_NAME: name, sc.STATUS: status,
             sc.TRIGGER_PAYLOAD: json.dumps(payload if payload is not None else {}),
             sc.TRIGGER_FINGERPRINT: fingerprint, **(extra or {})}
    if max_attempts:
        attrs[sc.MAX_ATTEMPTS] = str(max_attempts)
    if attempt > 1:
        attrs.update({sc.RETRY_OF: execution_id, sc.ATTEMPT: str(attempt),
                      sc.EXECUTION_START: str(execution_start_ns)})

    resource = {"service.name": "runner", **(resource_extra or {})}
    if retry_url:
        resource[sc.RESOURCE_RETRY_URL] = retry_url
    if proof_secret and sc.RETRY_PROOF not in attrs:
        attrs[sc.RETRY_PROOF] = attempt_proof(proof_secret, execution_id or trace_id, attempt, trace_id, root_id,
                                              retry_url, attrs.get(sc.TRIGGER_PAYLOAD, ""))
    common = dict(trace_state="", kind="Internal", service_name="runner", resource=resource, scope_name="t",
                  scope_version="", status_message="boom" if status == "Failed" else "")
    cols = SpanColumns()
    cols.add(start_ns=start_ns, end_ns=start_ns + 10**7, trace_id=trace_id, span_id=root_id, parent_span_id="",
             name=name, status_code="Error" if status == "Failed" else "Unset", attributes=attrs, **common)
    step_attrs = {sc.STEP_KIND: sc.StepKind.RESPONSE.value if response_step else sc.StepKind.ACTION.value,
                  sc.STEP_STATUS: "Success"}
    cols.add(start_ns=start_ns + 1000, end_ns=start_ns + 2000, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
             parent_span_id=root_id, name="respond" if response_step else "act", status_code="Unset",
             attributes=step_attrs, **common)
    store.insert_span_columns(cols.columns)
    return (execution_id or trace_id), root_id


def signed(body: dict | bytes, secret: str = SECRET, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", **signing.sign(secret, raw, now=now)}


class Runner:
    def __init__(self, endpoint: str, state: Path, listen: str = "", **env: str) -> None:
        self.state = state
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "EXECLOG_"))}
        environ.update(EXECLOG_ENDPOINT=endpoint, EXECLOG_RETRY_SECRET=SECRET, EXECLOG_FLUSH_INTERVAL_MS="100",
                       EXECLOG_RETRY_LISTEN=listen, PYTHONUNBUFFERED="1", **env)
        self.proc = subprocess.Popen([sys.executable, str(RUNNER), str(state)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
        line = self.proc.stdout.readline().split()
        if line[:1] != ["ready"]:
            raise AssertionError(f"runner did not start: {line} {self.proc.stderr.read()}")
        self.url = line[1]

    def run(self, name: str, payload: dict) -> tuple[str, str]:
        self.proc.stdin.write(f"run {name} {json.dumps(payload)}\n")
        self.proc.stdin.flush()
        _, execution_id, status = self.proc.stdout.readline().split()
        return execution_id, status

    def calls(self, name: str) -> int:
        path = self.state / f"{name}.calls"
        return int(path.read_text()) if path.exists() else 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_listen() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


class Viewer:
    """The viewer's JSON API as a browser script uses it: CSRF cookie + header."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = urllib3.PoolManager(maxsize=10)
        self.token = self.http.request("GET", url + "/api/retry/csrf").json()["token"]

    def get(self, path: str) -> dict:
        resp = self.http.request("GET", self.url + path)
        return resp.json()

    def retry(self, execution_id: str, attempt: int | None = None) -> tuple[int, dict]:
        resp = self.http.request("POST", f"{self.url}/api/executions/{execution_id}/retry",
                                 body=json.dumps({"attempt": attempt} if attempt else {}),
                                 headers={"X-CSRF-Token": self.token, "Cookie": f"execlog_csrf={self.token}",
                                          "Content-Type": "application/json"})
        return resp.status, resp.json()

    def preview(self, execution_id: str) -> dict:
        """The decision after asking the runner (POST /api/retry/preview); reading the status never asks it."""
        resp = self.http.request("POST", f"{self.url}/api/retry/preview", body=json.dumps({"ids": [execution_id]}),
                                 headers={"X-CSRF-Token": self.token, "Cookie": f"execlog_csrf={self.token}",
                                          "Content-Type": "application/json"})
        return resp.json()["items"][0]

    def row(self, execution_id: str) -> dict | None:
        items = self.get(f"/api/executions?ids={execution_id}")["items"]
        return items[0] if items else None

    def wait_row(self, execution_id: str, **expected) -> dict:
        deadline = time.monotonic() + WAIT_S
        row = None
        while time.monotonic() < deadline:
            row = self.row(execution_id)
            if row and all(row.get(k) == v for k, v in expected.items()):
                return row
            time.sleep(0.1)
        raise AssertionError(f"execution {execution_id} never reached {expected}; last seen {row}")
