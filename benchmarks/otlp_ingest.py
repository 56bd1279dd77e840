"""OTLP ingest: spans/s persisted by a real ``execlog serve`` subprocess, against a raw insert of the same rows.

Several client processes send the same kind of spans through the real
OpenTelemetry OTLP/HTTP exporter (protobuf, batches of 512, as the
BatchSpanProcessor sends them). A second set of rounds posts the same exporter's
protobuf bodies encoded before the clock starts: on a 2-core machine the
clients' Python encoding competes with the server for the CPU, so this shows
the server's own capacity. The clock runs from the moment all clients start
sending until the server reports every span written to the store (it answers
once a request is durable in its write-ahead log, and inserts in the
background). Then the server is stopped and its data directory opened to count
what was stored. The baseline, measured in the same run, is a raw
clickhouse-connect insert of the same rows in batches of 8,192
(``benchmarks.raw_insert``). Last, the pre-encoded bodies are sent again at half
the sustained rate, paced (each client at its own random phase of the interval), to
measure the time to acknowledgement (p50/p99). An acknowledgement waits for an fsync of
the write-ahead log, so its baseline is the disk's own: the same number of bodies of
the same size appended and fsynced to a file in the same directory at the same pace,
nothing else running (``fsync_baseline``), measured just before the round.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import SIZES, ServeProcess, Size, clean_env, emit, log, readable_spans
from benchmarks.stats import percentile, summary

BATCH = 512


def _paced_client(endpoint: str, spans: int, rate: float, ready: mp.Barrier, results: mp.Queue) -> None:
    """Pre-encoded bodies at ``rate`` spans/s; the time to each answer."""
    import requests
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    made = readable_spans(spans)
    bodies = [encode_spans(made[i:i + BATCH]).SerializeToString() for i in range(0, len(made), BATCH)]
    session = requests.Session()
    latencies, failed = [], 0
    ready.wait()
    # Each client at its own phase of the interval, as independent exporters flush: started together, the
    # clients would send every request at the same instant, and each would wait for the others' decoding.
    start = time.perf_counter() + random.Random(os.getpid()).uniform(0, BATCH / rate)
    for n, body in enumerate(bodies):
        due = start + n * BATCH / rate
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        t = time.perf_counter()
        r = session.post(endpoint, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=60)
        latencies.append((time.perf_counter() - t) * 1000)
        failed += BATCH if r.status_code != 200 else 0
    results.put((latencies, failed))


def _client(endpoint: str, spans: int, preencoded: bool, ready: mp.Barrier, results: mp.Queue) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    made = readable_spans(spans)
    batches = [made[i:i + BATCH] for i in range(0, len(made), BATCH)]
    failed = 0
    if preencoded:
        # The exporter's own protobuf encoding, done before the clock starts: the server's share alone.
        import requests

        bodies = [encode_spans(b).SerializeToString() for b in batches]
        session = requests.Session()
        ready.wait()
        for b, body in zip(batches, bodies, strict=True):
            r = session.post(endpoint, data=body, headers={"Content-Type": "application/x-protobuf"}, timeout=60)
            failed += len(b) if r.status_code != 200 else 0
        results.put((time.perf_counter(), len(made), failed))
        return
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=60)
    ready.wait()
    for b in batches:
        if exporter.export(b) != SpanExportResult.SUCCESS:
            failed += len(b)
    results.put((time.perf_counter(), len(made), failed))
    exporter.shutdown()


def run(size_name: str) -> dict:
    """Rounds of ``one_round``, each against a fresh server and data directory."""
    size = SIZES[size_name]
    out: dict = {"clients": size.ingest_clients, "batch": BATCH, "raw": raw_baseline(size_name)}
    for mode, preencoded in (("exporter", False), ("preencoded", True)):
        rounds = [one_round(size, preencoded) for _ in range(size.ingest_rounds)]
        out[mode] = {"spans_per_s": summary([r["spans_per_s"] for r in rounds]), "rounds": rounds,
                     "sent": sum(r["sent"] for r in rounds), "stored": sum(r["stored"] for r in rounds),
                     "failed": sum(r["failed"] for r in rounds)}
    out["ack"] = ack_round(size, out["preencoded"]["spans_per_s"]["p50"] / 2)
    return out


def ack_round(size: Size, rate: float) -> dict:
    """Time to acknowledgement at ``rate`` spans/s (half the sustained rate), pre-encoded bodies, paced; and the
    disk's fsync at the same pace just before (``fsync_baseline``)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    data_dir = Path(tempfile.mkdtemp(prefix="execlog-bench-ack-"))
    try:
        body_bytes = len(encode_spans(readable_spans(BATCH)).SerializeToString())
        requests = size.ingest_clients * -(-size.ingest_spans // BATCH)
        disk = fsync_baseline(data_dir, requests, body_bytes, rate / BATCH)
        serve = ServeProcess(data_dir, env=clean_env())
        url = serve.url
        ctx = mp.get_context("fork")
        ready = ctx.Barrier(size.ingest_clients + 1)
        results = ctx.Queue()
        clients = [ctx.Process(target=_paced_client, args=(url + "/v1/traces", size.ingest_spans,
                                                           rate / size.ingest_clients, ready, results))
                   for _ in range(size.ingest_clients)]
        for c in clients:
            c.start()
        ready.wait()
        done = [results.get(timeout=900) for _ in clients]
        for c in clients:
            c.join()
        serve.stop()
        latencies = sorted(x for d in done for x in d[0])
        log(f"acknowledgement at {rate:,.0f} spans/s: p50 {percentile(latencies, 50):.1f} ms, "
            f"p99 {percentile(latencies, 99):.1f} ms; a bare fsync of a body, same pace: p50 "
            f"{disk['p50']:.1f} ms, p99 {disk['p99']:.1f} ms")
        return {"rate": rate, "ms": summary(latencies), "p99_ms": percentile(latencies, 99),
                "failed": sum(d[1] for d in done), "fsync_ms": disk, "fsync_p99_ms": disk["p99"]}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def fsync_baseline(directory: Path, appends: int, body_bytes: int, per_s: float) -> dict:
    """ms to append ``body_bytes`` to a file in ``directory`` and fsync it, ``appends`` times at ``per_s``: what
    the disk alone makes an acknowledgement wait (the write-ahead log fsyncs each request, or a group of them,
    before answering)."""
    body = os.urandom(body_bytes)
    latencies = []
    path = directory / "fsync-baseline.bin"
    with open(path, "wb") as f:
        start = time.perf_counter()
        for n in range(appends):
            due = start + n / per_s
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
            t = time.perf_counter()
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
            latencies.append((time.perf_counter() - t) * 1000)
    path.unlink()
    latencies.sort()
    return {**summary(latencies), "p99": percentile(latencies, 99)}


def _written(url: str) -> int:
    """Spans the server reports written to the store since it started (the ingest counters alone: the full
    status queries the store, ≈ 20 ms of the server's CPU per call, which polling would take from the inserts)."""
    import json
    import urllib.request

    with urllib.request.urlopen(url + "/api/status?only=ingest", timeout=30) as resp:
        return int(json.loads(resp.read())["ingest"]["spans_written"] or 0)


def raw_baseline(size_name: str) -> dict:
    """The same-run baseline: ``benchmarks.raw_insert`` in its own process (its own embedded store)."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.raw_insert", "--size", size_name], cwd=root, env=env,
                          stdout=subprocess.PIPE, text=True, check=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith("BENCH-RESULT ")][-1]
    return json.loads(line.removeprefix("BENCH-RESULT "))


def one_round(size: Size, preencoded: bool) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="execlog-bench-serve-"))
    try:
        serve = ServeProcess(data_dir, env=clean_env())
        url = serve.url
        log(f"execlog serve at {url}; {size.ingest_clients} clients x {size.ingest_spans:,} spans")
        ctx = mp.get_context("fork")
        ready = ctx.Barrier(size.ingest_clients + 1)
        results = ctx.Queue()
        clients = [ctx.Process(target=_client, args=(url + "/v1/traces", size.ingest_spans, preencoded, ready,
                                                     results)) for _ in range(size.ingest_clients)]
        for c in clients:
            c.start()
        ready.wait()
        t0 = time.perf_counter()
        done = [results.get(timeout=600) for _ in clients]
        for c in clients:
            c.join()
        sent = sum(d[1] for d in done)
        failed = sum(d[2] for d in done)
        deadline = time.monotonic() + 600
        while _written(url) < sent - failed and time.monotonic() < deadline:
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        acked = max(d[0] for d in done) - t0
        serve.stop()
        from execlog_otel.config import Settings
        from execlog_otel.store.store import Store

        url = Settings.from_env(environ={}, data_dir=str(data_dir)).store_url  # where serve keeps it
        store = Store.open(url, "otel", migrate=False)
        stored = int(store.pool.query("SELECT count() FROM otel.otel_traces").result_rows[0][0])
        store.close()
        log(f"{'pre-encoded' if preencoded else 'OTLP exporter'}: {stored:,} of {sent:,} spans stored in {wall:.2f} s")
        return {"spans_per_s": stored / wall, "seconds": wall, "acknowledged_s": acked, "sent": sent,
                "failed": failed, "stored": stored}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    emit(run(p.parse_args().size))
