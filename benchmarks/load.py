"""Load: 50 viewer clients browsing while 10,000 spans/s are ingested, against a real ``execlog serve``.

One process sends OTLP/HTTP protobuf batches (500 spans, as a Collector or the
BatchSpanProcessor would) at the target rate from a few paced threads; another
runs the viewer clients, each a thread that, with a short think time, opens the
listing (with filters), an execution's detail, the HTML pages and the status.
Every answer must be 2xx; latencies are reported as p50/p95 per request kind.

    .venv/bin/python -m benchmarks.load --seconds 30 --rate 10000 --clients 50

Prints a Markdown table and a ``BENCH-RESULT`` JSON line; writes
``benchmarks/results/load.json``. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

from benchmarks.common import ServeProcess, emit, log, readable_spans
from benchmarks.stats import fmt, percentile

BATCH = 500
RESULTS = Path(__file__).resolve().parent / "results"


def encoded_batches(spans: int) -> list[bytes]:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    made = readable_spans(spans)
    return [encode_spans(made[i:i + BATCH]).SerializeToString() for i in range(0, len(made), BATCH)]


class Conn:
    """A keep-alive HTTP connection that reconnects once after a dropped connection."""

    def __init__(self, base: str):
        self.host, self.port = urlparse(base).hostname, urlparse(base).port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                resp = self.c.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def ingest_process(base: str, rate: float, seconds: float, bodies: list[bytes], out: mp.Queue,
                   threads: int = 16) -> None:
    """Send ``rate`` spans/s for ``seconds``, paced; report (spans sent, errors, latencies)."""
    lock = threading.Lock()
    sent, errors, latencies = [0], [], []
    interval = BATCH * threads / rate  # seconds between two batches of one thread

    def sender(k: int) -> None:
        conn = Conn(base)
        t0 = time.perf_counter()
        n = 0
        while True:
            due = t0 + n * interval + k * interval / threads
            if due - t0 > seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = bodies[(n * threads + k) % len(bodies)]
            start = time.perf_counter()
            try:
                status, data = conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            except OSError as exc:
                status, data = 0, str(exc).encode()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took * 1000)
                if status == 200:
                    sent[0] += BATCH
                else:
                    errors.append(f"{status}: {data[:120]!r}")
            n += 1

    t = time.perf_counter()
    pool = [threading.Thread(target=sender, args=(k,)) for k in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    out.put(("ingest", {"spans": sent[0], "elapsed_s": time.perf_counter() - t, "errors": errors,
                        "latencies": latencies}))


def _viewer_request(rng: random.Random, roll: float, ids: list[str]) -> tuple[str, str]:
    """The kind and path of a viewer client's next request: ``roll`` picks the kind (40 % listings, with
    random filters; 35 % details of listed executions; pages; status)."""
    if roll < 0.4 or not ids:
        query: dict[str, object] = {"limit": rng.choice([25, 50, 100])}
        if rng.random() < 0.3:
            query["status"] = rng.choice(["Failed", "Success", "Running"])
        if rng.random() < 0.2:
            query["q"] = rng.choice(["nightly", "sync", "req-1"])
        return "listing", "/api/executions?" + urlencode(query)
    if roll < 0.75:
        return "detail", "/api/executions/" + rng.choice(ids)
    if roll < 0.9:
        return "pages", rng.choice(["/", "/executions/" + rng.choice(ids), "/static/js/listing.js"])
    return "status", "/api/status"


def viewer_process(base: str, clients: int, seconds: float, think_s: float, out: mp.Queue) -> None:
    lock = threading.Lock()
    samples: dict[str, list[float]] = {}
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def record(kind: str, took: float, status: int, data: bytes, path: str) -> None:
        with lock:
            samples.setdefault(kind, []).append(took * 1000)
            if not 200 <= status < 300:
                errors.append(f"{kind} {path}: {status} {data[:120]!r}")

    def client(k: int) -> None:
        rng = random.Random(k)
        conn = Conn(base)
        ids: list[str] = []
        sent = 0
        while sent < 4 or time.monotonic() < deadline:
            # Each client's first four requests visit every kind once, even past the deadline, so a short
            # run on a busy machine exercises all of them; then the mix is random until the deadline.
            roll = (0.0, 0.5, 0.8, 0.95)[sent] if sent < 4 else rng.random()
            sent += 1
            kind, path = _viewer_request(rng, roll, ids)
            start = time.perf_counter()
            try:
                status, data = conn.request("GET", path, headers={"Accept": "application/json"})
            except OSError as exc:
                status, data = 0, str(exc).encode()
            record(kind, time.perf_counter() - start, status, data, path)
            if kind == "listing" and status == 200:
                items = json.loads(data)["items"]
                ids = [i["id"] for i in items] or ids
            time.sleep(rng.uniform(0, 2 * think_s))

    pool = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    out.put(("viewer", {"samples": samples, "errors": errors}))


def _wait_until_listed(conn: Conn, timeout_s: float = 120.0) -> None:
    """Wait for the prefill to be stored (acknowledged spans are written from the log a moment later), so the
    viewer clients' first listing has executions to open."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, data = conn.request("GET", "/api/executions?limit=1", headers={"Accept": "application/json"})
        if status == 200 and json.loads(data)["items"]:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the prefill was not listed within {timeout_s:g} s")


def run(seconds: float, rate: float, clients: int, think_s: float) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="execlog-bench-load-"))
    serve = None
    try:
        serve = ServeProcess(data_dir)
        base = serve.url
        log(f"execlog serve at {base}; preparing spans")
        bodies = encoded_batches(max(BATCH * 8, int(min(rate * seconds, 40_000))))
        prefill = Conn(base)
        for body in bodies[:8]:
            status, data = prefill.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            assert status == 200, data
        _wait_until_listed(prefill)
        log(f"{clients} viewer clients for {seconds:g} s while ingesting {rate:,.0f} spans/s")
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        procs = [ctx.Process(target=ingest_process, args=(base, rate, seconds, bodies, out)),
                 ctx.Process(target=viewer_process, args=(base, clients, seconds, think_s, out))]
        for p in procs:
            p.start()
        got = dict(out.get(timeout=seconds + 300) for _ in procs)
        for p in procs:
            p.join(timeout=60)
    finally:
        if serve is not None:
            serve.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    ingest, viewer = got["ingest"], got["viewer"]
    result = {
        "benchmark": "load", "seconds": seconds, "target_spans_per_s": rate, "clients": clients,
        "think_s": think_s,
        "ingested_spans_per_s": round(ingest["spans"] / ingest["elapsed_s"]),
        "ingest_errors": len(ingest["errors"]), "viewer_errors": len(viewer["errors"]),
        "error_samples": (ingest["errors"] + viewer["errors"])[:5],
        "ingest_ms": {"p50": percentile(ingest["latencies"], 50), "p95": percentile(ingest["latencies"], 95),
                      "n": len(ingest["latencies"])},
        "viewer_ms": {kind: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)}
                      for kind, v in sorted(viewer["samples"].items())},
    }
    return result


def markdown(r: dict) -> str:
    lines = [f"Load: {r['clients']} viewer clients for {r['seconds']:g} s while ingesting "
             f"(target {r['target_spans_per_s']:,.0f} spans/s, achieved {r['ingested_spans_per_s']:,} spans/s); "
             f"errors: ingest {r['ingest_errors']}, viewer {r['viewer_errors']}", "",
             "| requests | count | p50 ms | p95 ms |", "|---|---:|---:|---:|",
             f"| OTLP ingest (500 spans) | {r['ingest_ms']['n']} | {fmt(r['ingest_ms']['p50'])} | "
             f"{fmt(r['ingest_ms']['p95'])} |"]
    for kind, s in r["viewer_ms"].items():
        lines.append(f"| viewer {kind} | {s['n']} | {fmt(s['p50'])} | {fmt(s['p95'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=10_000, help="spans per second to ingest")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--think", type=float, default=0.5, help="mean think time of a viewer client, seconds")
    args = ap.parse_args(argv)
    result = run(args.seconds, args.rate, args.clients, args.think)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(result, indent=2))
    sys.stderr.write(markdown(result))
    emit(result)
    return 0 if not result["ingest_errors"] and not result["viewer_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
