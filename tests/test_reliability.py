"""Durability end to end: outages, kill -9 of serve under 4 real OTLP exporter processes (nothing lost, nothing
stored twice), the direct exporter's own log, a store unreachable at start."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from benchmarks.common import ServeProcess, clean_env
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from tests.reliability_support import TableAway, otlp_json, post_spans, span_ids, stored_span_ids

from execlog_otel.config import Settings
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.ingest.sink import SpanDataError, StoreSink
from execlog_otel.ingest.wal import Wal
from execlog_otel.store.rows import SpanColumns


def columns_for(ids: list[tuple[str, str]], parent: str = "") -> SpanColumns:
    cols = SpanColumns()
    now = time.time_ns()
    for tid, sid in ids:
        cols.add(start_ns=now, end_ns=now + 10, trace_id=tid, span_id=sid, parent_span_id=parent, trace_state="",
                 name="step", kind="Internal", service_name="svc", resource={"service.name": "svc"},
                 scope_name="t", scope_version="", attributes={"k": "v"}, status_code="Unset", status_message="")
    return cols


def span_counts(store) -> tuple[int, int]:
    """(rows, distinct span ids) in otel_traces."""
    return tuple(store.pool.query(f"SELECT count(), uniqExact(SpanId) FROM {store.table('otel_traces')}")
                 .result_rows[0])


def test_receiver_acknowledges_during_outage_and_stores_every_span_once(store, settings, start_server,
                                                                        tmp_path: Path):
    settings = Settings(**{**settings.__dict__, "spool_dir": str(tmp_path / "log"), "log_linger_ms": 20})
    running = start_server(settings=settings)
    sent: list[str] = []

    def send(n: int) -> None:
        ids = span_ids(n, 3)
        status, body = post_spans(running.url, otlp_json(ids))
        assert status == 200, body
        sent.extend(sid for _, sid in ids)

    send(5)
    sink = running._sink
    assert sink.wait_drained(30)
    with TableAway(store):
        for _ in range(6):
            send(7)  # acknowledged: durable in the log while the table is gone
        deadline = time.monotonic() + 30
        while not sink.status()["store_error"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sink.wal.pending_rows == 42
        assert re.search("Unknown table|does not exist", sink.status()["store_error"])
    send(3)  # queued behind the backlog, in order
    assert sink.wait_drained(60), sink.status()
    assert span_counts(store) == (len(sent), len(sent)) == (50, 50)
    stored = {r[0] for r in store.pool.query(f"SELECT SpanId FROM {store.table('otel_traces')}").result_rows}
    assert stored == set(sent)
    assert sink.status()["store_error"] == ""


def test_exporter_keeps_its_own_log_while_clickhouse_refuses_and_writes_later(store, tmp_path: Path):
    exporter = ClickHouseSpanExporter(store=store, settings=Settings.from_env(environ={}),
                                      spool_dir=tmp_path / "exporter-log")
    provider = TracerProvider(resource=Resource.create({"service.name": "exporter-outage"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    try:
        with tracer.start_as_current_span("before"):
            pass
        assert span_counts(store) == (1, 1)  # written when export returns, while the store takes inserts
        with TableAway(store):
            for i in range(10):
                with tracer.start_as_current_span(f"during-{i}"):
                    pass
            assert exporter._sink.wal.pending_rows == 10
        with tracer.start_as_current_span("after"):
            pass
        assert exporter._sink.wait_drained(30)
        names = [r[0] for r in store.pool.query(f"SELECT SpanName FROM {store.table('otel_traces')}").result_rows]
        assert sorted(names) == sorted(["before", "after"] + [f"during-{i}" for i in range(10)])
        assert span_counts(store) == (12, 12)
    finally:
        provider.shutdown()


def test_without_a_log_a_failed_insert_is_a_503_so_the_client_retries(store, start_server):
    running = start_server()
    with TableAway(store):
        status, body = post_spans(running.url, otlp_json(span_ids(2, 5)))
    assert status == 503 and b"could not be accepted" in body
    status, _ = post_spans(running.url, otlp_json(span_ids(2, 5)))
    assert status == 200


def test_without_a_log_spans_that_cannot_be_encoded_are_refused_alone(store):
    sink = StoreSink(store)
    bad = columns_for(span_ids(1, 9))
    bad.span_name[0] = "\ud800 lone surrogate"
    try:
        sink.write(bad)
        raise AssertionError("expected SpanDataError")
    except SpanDataError as exc:
        assert "cannot be stored as sent" in str(exc)
    sink.write(columns_for(span_ids(2, 9)))
    assert span_counts(store) == (2, 2)


def test_exporter_started_while_clickhouse_is_unreachable_logs_and_nothing_is_lost(store, tmp_path: Path):
    """A runner starts while its ClickHouse is down (a closed port): spans go to its log, not dropped; when a
    writer with a reachable store takes the log over (the next start), every span is stored once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    log_dir = tmp_path / "runner-log"
    exporter = ClickHouseSpanExporter(f"http://127.0.0.1:{closed_port}/otel", "otel",
                                      settings=Settings.from_env(environ={}), spool_dir=log_dir)
    assert exporter.store is None
    assert exporter._sink.settings == {"async_insert": 1, "wait_for_async_insert": 1}  # a ClickHouse server
    provider = TracerProvider(resource=Resource.create({"service.name": "down-at-start"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    for i in range(7):
        with tracer.start_as_current_span(f"offline-{i}"):
            pass
    assert exporter._sink.wal.pending_rows == 7
    provider.shutdown()  # the writer's last attempt fails too: the spans stay on disk
    sink = StoreSink(store, Wal(log_dir, max_bytes=10_000_000), linger_s=0.01)
    assert sink.wait_drained(30)
    sink.close()
    names = sorted(r[0] for r in store.pool.query(f"SELECT SpanName FROM {store.table('otel_traces')}").result_rows)
    assert names == [f"offline-{i}" for i in range(7)]


# --- kill -9 of execlog serve under 4 real OTLP/HTTP exporter processes -------------------------------------

EXPORTER = r"""
import sys, time, pathlib
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

endpoint, acked_path, made_path, stop_path = sys.argv[1:5]

class Recording(OTLPSpanExporter):
    # Writes down the span ids of every batch the server acknowledged (export returned SUCCESS).
    def export(self, spans):
        result = super().export(spans)
        if result == SpanExportResult.SUCCESS:
            with open(acked_path, "a") as f:
                f.write("".join(format(s.context.span_id, "016x") + "\n" for s in spans))
        return result

provider = TracerProvider(resource=Resource.create({"service.name": "kill9"}))
provider.add_span_processor(BatchSpanProcessor(Recording(endpoint=endpoint, timeout=90), max_queue_size=200000,
                                               max_export_batch_size=100, schedule_delay_millis=100))
tracer = provider.get_tracer("kill9")
made = open(made_path, "a")
while not pathlib.Path(stop_path).exists():
    for _ in range(25):
        with tracer.start_as_current_span("step") as span:
            made.write(format(span.get_span_context().span_id, "016x") + "\n")
    made.flush()
    time.sleep(0.05)
made.close()
provider.shutdown()
"""


def _lines(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if p.exists():
            out.extend(x for x in p.read_text().split("\n") if len(x) == 16)
    return out


@pytest.mark.slow
def test_kill_9_three_times_under_four_exporters_loses_and_duplicates_nothing(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "data"
    serve = ServeProcess(data, "--port", str(port))
    acked = [tmp_path / f"acked-{i}" for i in range(4)]
    made = [tmp_path / f"made-{i}" for i in range(4)]
    stop = tmp_path / "stop"
    senders = [subprocess.Popen([sys.executable, "-c", EXPORTER, f"http://127.0.0.1:{port}/v1/traces", str(acked[i]),
                                 str(made[i]), str(stop)], env=clean_env(), stderr=subprocess.DEVNULL)
               for i in range(4)]
    try:
        for kill in range(3):
            deadline = time.monotonic() + 180
            while len(_lines(acked)) < 800 * (kill + 1) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(_lines(acked)) >= 800 * (kill + 1), serve.stderr()
            serve.kill9()  # requests in flight: some were durable, but their answer is lost and they are re-sent
            serve = ServeProcess(data, "--port", str(port))
        stop.write_text("")
        for p in senders:
            assert p.wait(timeout=300) == 0
    finally:
        stop.write_text("")
        for p in senders:
            if p.poll() is None:
                p.kill()
        assert serve.stop() == 0, serve.stderr()
    stored = stored_span_ids(data)
    acknowledged, created = set(_lines(acked)), set(_lines(made))
    assert len(stored) == len(set(stored)), f"{len(stored) - len(set(stored))} spans stored twice"
    assert not acknowledged - set(stored), f"{len(acknowledged - set(stored))} acknowledged spans lost"
    assert set(stored) <= created
    assert len(acknowledged) >= 2400
