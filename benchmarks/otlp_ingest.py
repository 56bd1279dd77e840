"""OTLP ingest: spans/s accepted and persisted by a real ``execlog serve`` subprocess.

Several client processes send the same kind of spans through the real
OpenTelemetry OTLP/HTTP exporter (protobuf, batches of 512, as the
BatchSpanProcessor sends them). A second set of rounds posts the same exporter's
protobuf bodies encoded before the clock starts: on a 2-core machine the
clients' Python encoding competes with the server for the CPU, so this shows
the server's own capacity. The clock runs from the moment all clients
start sending until the last one has its answers (the receiver answers after
the insert). Then the server is stopped and its data directory opened to count
what was stored.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import SIZES, ServeProcess, Size, clean_env, emit, log, readable_spans
from benchmarks.stats import summary

BATCH = 512


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
    return out


def raw_baseline(size_name: str) -> dict:
    """The same-run baseline: ``benchmarks.raw_insert`` in its own process (its own embedded store)."""
    import json
    import os
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
        serve = ServeProcess(data_dir, env=clean_env(EXECLOG_SPOOL_MAX_BYTES="0"))
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
        wall = max(d[0] for d in done) - t0
        sent = sum(d[1] for d in done)
        failed = sum(d[2] for d in done)
        serve.stop()
        from execlog_otel.config import Settings
        from execlog_otel.store.store import Store

        url = Settings.from_env(environ={}, data_dir=str(data_dir)).store_url  # where serve keeps it
        store = Store.open(url, "otel", migrate=False)
        stored = int(store.pool.query("SELECT count() FROM otel.otel_traces").result_rows[0][0])
        store.close()
        log(f"{'pre-encoded' if preencoded else 'OTLP exporter'}: {stored:,} of {sent:,} spans stored in {wall:.2f} s")
        return {"spans_per_s": stored / wall, "seconds": wall, "sent": sent, "failed": failed, "stored": stored}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    emit(run(p.parse_args().size))
