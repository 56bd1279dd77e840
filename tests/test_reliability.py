"""Durability: no span lost and none duplicated across a store outage, a spool replay and a kill -9."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import pytest
from benchmarks.common import ServeProcess
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from tests.reliability_support import otlp_json, post_spans, span_ids, stored_span_ids

from execlog_otel.config import Settings
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.ingest.sink import StoreSink
from execlog_otel.ingest.spool import Spool, SpoolError, read_status
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


# --- the spool itself ---------------------------------------------------------------------------------

def test_spool_replays_in_order_across_reopen_and_ignores_a_torn_tail(tmp_path: Path):
    spool = Spool(tmp_path, max_bytes=10_000_000, segment_bytes=600)  # small segments: several files
    for i in range(12):
        spool.append(f"b{i}", columns_for(span_ids(2, 1)).columns, 2)
    assert len(list(tmp_path.glob("seg-*.log"))) > 1
    first = spool.next_batch()
    spool.mark_written(first)
    spool.close()
    # A crash in mid-append leaves a partial record at the end of the newest segment.
    newest = max(tmp_path.glob("seg-*.log"))
    with open(newest, "ab") as f:
        f.write(b"EXS1\x00\x00\x10\x00garbage")
    spool = Spool(tmp_path, max_bytes=10_000_000, segment_bytes=600)
    assert spool.pending_batches == 11 and spool.pending_spans == 22
    seen = []
    while (batch := spool.next_batch()) is not None:
        seen.append(batch.batch_id)
        spool.mark_written(batch)
    assert seen == [f"b{i}" for i in range(1, 12)]
    assert spool.pending_batches == 0 and spool.size_bytes == 0
    spool.close()


def test_spool_is_bounded_drops_oldest_counts_and_logs(tmp_path: Path, caplog):
    spool = Spool(tmp_path, max_bytes=4000, segment_bytes=1000)
    caplog.set_level(logging.ERROR, logger="execlog_otel.ingest.spool")
    for i in range(40):
        spool.append(f"b{i}", columns_for(span_ids(3, 2)).columns, 3)
        assert spool.size_bytes <= 4000
    status = spool.status()
    assert status["dropped_batches"] > 0 and status["dropped_spans"] == 3 * status["dropped_batches"]
    assert status["pending_batches"] + status["dropped_batches"] == 40
    assert "dropped the oldest" in caplog.text
    # What survived is the newest, still in order.
    kept = []
    while (batch := spool.next_batch()) is not None:
        kept.append(int(batch.batch_id[1:]))
        spool.mark_written(batch)
    assert kept == list(range(40 - len(kept), 40))
    spool.close()
    # The count of dropped spans survives a restart, and `execlog status` reads it without taking the spool.
    assert read_status(tmp_path, 4000)["dropped_spans"] == status["dropped_spans"]
    assert Spool(tmp_path, max_bytes=4000).status()["dropped_spans"] == status["dropped_spans"]


def test_spool_directory_has_one_owner(tmp_path: Path):
    spool = Spool(tmp_path, max_bytes=1000)
    with pytest.raises(SpoolError, match="in use by another process"):
        Spool(tmp_path, max_bytes=1000)
    spool.close()


# --- the sink: spool while the store refuses, drain when it is back, no duplicates -------------------

def test_receiver_acknowledges_during_outage_and_stores_every_span_once(store, settings, start_server,
                                                                        tmp_path: Path):
    settings = Settings(**{**settings.__dict__, "spool_dir": str(tmp_path / "spool")})
    running = start_server(settings=settings)
    sent: list[str] = []

    def send(n: int) -> None:
        ids = span_ids(n, 3)
        status, body = post_spans(running.url, otlp_json(ids))
        assert status == 200, body
        sent.extend(sid for _, sid in ids)

    send(5)
    with TableAway(store):
        for _ in range(6):
            send(7)  # acknowledged: durable in the spool while the table is gone
        sink = running._sink
        assert sink.spool.pending_spans == 42
        assert re.search("Unknown table|does not exist", sink.status()["store_error"])
    send(3)  # arrives while the backlog drains: queued behind it, in order
    assert sink.wait_drained(30), sink.status()
    rows, distinct = span_counts(store)
    assert (rows, distinct) == (len(sent), len(sent)) == (50, 50)
    stored = {r[0] for r in store.pool.query(f"SELECT SpanId FROM {store.table('otel_traces')}").result_rows}
    assert stored == set(sent)
    assert sink.status()["store_error"] == ""


def test_replaying_a_batch_already_inserted_does_not_duplicate(store, tmp_path: Path):
    """A crash after the insert but before the spool marked it written: the replay is deduplicated."""
    trace = span_ids(1, 4)[0]
    root = columns_for([trace])
    children = columns_for(span_ids(4, 4), parent=trace[1])
    # Same trace id for the children, so the rollup (a sum) would double on a duplicate insert.
    children.columns[1] = [trace[0]] * 4
    spool = Spool(tmp_path, max_bytes=10_000_000)
    spool.append("batch-root", root.columns, 1)
    spool.append("batch-children", children.columns, 4)
    sink = StoreSink(store)  # the "previous process": it inserted both, then died before marking them
    from execlog_otel.ingest.sink import dedup_settings

    store.insert_span_columns(root.columns, settings=dedup_settings("batch-root"))
    store.insert_span_columns(children.columns, settings=dedup_settings("batch-children"))
    sink = StoreSink(store, spool)
    assert sink.wait_drained(30)
    sink.close()
    assert span_counts(store) == (5, 5)
    steps = store.pool.query(f"SELECT sum(Steps) FROM {store.table('execlog_trace_rollups')} "
                               "WHERE TraceId = {t:String}", parameters={"t": trace[0]}).result_rows[0][0]
    assert steps == 4
    ranges = store.pool.query(f"SELECT count() FROM {store.table('otel_traces_trace_id_ts')} "
                                "WHERE TraceId = {t:String}", parameters={"t": trace[0]}).result_rows[0][0]
    assert ranges == 2  # one per insert, not one per replay


def test_exporter_spools_while_clickhouse_refuses_and_writes_later(store, tmp_path: Path):
    exporter = ClickHouseSpanExporter(store=store, settings=Settings.from_env(environ={}),
                                      spool_dir=tmp_path / "exporter-spool")
    provider = TracerProvider(resource=Resource.create({"service.name": "exporter-outage"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    try:
        with TableAway(store):
            for i in range(10):
                with tracer.start_as_current_span(f"during-{i}"):
                    pass
            assert exporter._sink.spool.pending_spans == 10
        with tracer.start_as_current_span("after"):
            pass
        assert exporter._sink.wait_drained(30)
        names = [r[0] for r in store.pool.query(
            f"SELECT SpanName FROM {store.table('otel_traces')} ORDER BY Timestamp").result_rows]
        assert sorted(names) == sorted([f"during-{i}" for i in range(10)] + ["after"])
        assert span_counts(store) == (11, 11)
    finally:
        provider.shutdown()


def test_sink_without_spool_refuses_so_the_client_retries(store, start_server):
    running = start_server()
    with TableAway(store):
        status, body = post_spans(running.url, otlp_json(span_ids(2, 5)))
    assert status == 503 and b"could not accept" in body
    status, _ = post_spans(running.url, otlp_json(span_ids(2, 5)))
    assert status == 200


# --- kill -9 of execlog serve during ingest ------------------------------------------------------------

def test_every_acknowledged_span_survives_kill_9_of_serve(tmp_path: Path):
    data = tmp_path / "data"
    serve = ServeProcess(data)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(prefix: int) -> None:
        while not stop.is_set():
            ids = span_ids(25, prefix)
            try:
                status, _ = post_spans(serve.url, otlp_json(ids))
            except OSError:
                return  # the server died under us: this request was never acknowledged
            if status == 200:
                with lock:
                    acked.extend(sid for _, sid in ids)

    threads = [threading.Thread(target=sender, args=(10 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 1000 and time.monotonic() < deadline:
        time.sleep(0.02)
    serve.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 1000, serve.stderr()
    # Restart on the same directory (it must come up after the crash), then stop it cleanly.
    again = ServeProcess(data)
    status, _ = post_spans(again.url, otlp_json(span_ids(1, 20)))
    assert status == 200
    assert again.stop() == 0, again.stderr()
    stored = stored_span_ids(data)
    missing = set(acked) - set(stored)
    assert not missing, f"{len(missing)} acknowledged spans lost"
    assert len(stored) == len(set(stored)), "duplicated spans"


def test_a_batch_whose_failed_direct_insert_had_landed_is_not_written_twice(store, tmp_path: Path):
    """The store committed but the answer was lost: the batch is spooled as tried; its replay finds it stored."""
    from execlog_otel.ingest.sink import DIRECT_INSERT

    landed = columns_for(span_ids(3, 6))
    lost = columns_for(span_ids(2, 6))
    store.insert_span_columns(landed.columns, settings=DIRECT_INSERT)  # the insert that "failed" after commit
    spool = Spool(tmp_path, max_bytes=10_000_000)
    spool.append("landed", landed.columns, 3, tried=True)
    spool.append("lost", lost.columns, 2, tried=True)  # this one really failed
    sink = StoreSink(store, spool)
    assert sink.wait_drained(30)
    sink.close()
    assert span_counts(store) == (5, 5)


def test_requests_queued_behind_an_insert_are_written_together(store):
    """Group commit: requests waiting for the writer go into the store in one insert, each still acknowledged."""
    sink = StoreSink(store)
    batches = [columns_for(span_ids(4, 7)) for _ in range(5)]
    errors = []

    def write(cols, target=None):
        try:
            (target or sink).write(cols)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    with sink._lock:  # an insert is running
        threads = [threading.Thread(target=write, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(sink._queue) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sink._queue) == 5
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert sink.inserts == 1 and sink.spans_written == 20
    assert span_counts(store) == (20, 20)
    # Concurrent writers: every span lands once.
    sink2 = StoreSink(store)
    more = [columns_for(span_ids(10, 8)) for _ in range(40)]
    threads = [threading.Thread(target=write, args=(b, sink2)) for b in more]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and sink2.spans_written == 400
    assert span_counts(store) == (420, 420)


def test_exporter_started_while_clickhouse_is_unreachable_spools_and_nothing_is_lost(store, tmp_path: Path):
    """A runner starts while its ClickHouse is down (a closed port): spans are spooled, not dropped; when a
    writer with a reachable store takes the spool over (the next start), every span is stored once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    spool_dir = tmp_path / "runner-spool"
    exporter = ClickHouseSpanExporter(f"http://127.0.0.1:{closed_port}/otel", "otel",
                                      settings=Settings.from_env(environ={}), spool_dir=spool_dir)
    assert exporter.store is None
    provider = TracerProvider(resource=Resource.create({"service.name": "down-at-start"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    for i in range(7):
        with tracer.start_as_current_span(f"offline-{i}"):
            pass
    assert exporter._sink.spool.pending_spans == 7
    assert "127.0.0.1" in exporter._sink.status()["store_error"] or exporter._sink.status()["spans_spooled"] == 7
    provider.shutdown()  # the drainer's last attempt fails too: the spans stay on disk
    assert spool_dir.exists()
    sink = StoreSink(store, Spool(spool_dir, max_bytes=10_000_000))
    assert sink.wait_drained(30)
    sink.close()
    names = sorted(r[0] for r in store.pool.query(f"SELECT SpanName FROM {store.table('otel_traces')}").result_rows)
    assert names == [f"offline-{i}" for i in range(7)]


def _queue_behind_lock(sink, batches):
    """Write ``batches`` from threads that all queue while the writer lock is held; their outcomes in order."""
    outcomes: list = [None] * len(batches)

    def write(i, cols):
        try:
            sink.write(cols)
            outcomes[i] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcomes[i] = exc

    with sink._lock:
        threads = [threading.Thread(target=write, args=(i, b)) for i, b in enumerate(batches)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(sink._queue) < len(batches) and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_spans_that_cannot_be_encoded_fail_alone_and_never_enter_the_spool(store, tmp_path: Path):
    from execlog_otel.ingest.sink import SpanDataError

    def poison():
        cols = columns_for(span_ids(1, 9))
        cols.columns[5] = ["\ud800 lone surrogate"]  # SpanName no encoder accepts
        return cols

    sink = StoreSink(store, Spool(tmp_path / "spool", max_bytes=10_000_000))
    try:
        outcomes = _queue_behind_lock(sink, [columns_for(span_ids(2, 9)), poison(), columns_for(span_ids(3, 9))])
        assert outcomes[0] == "ok" and outcomes[2] == "ok" and isinstance(outcomes[1], SpanDataError)
        assert span_counts(store) == (5, 5)
        with TableAway(store):  # the store is down: good requests are spooled, the bad one still refused
            outcomes = _queue_behind_lock(sink, [columns_for(span_ids(2, 9)), poison()])
            assert outcomes[0] == "ok" and isinstance(outcomes[1], SpanDataError)
            assert sink.spool.pending_spans == 2
        assert sink.wait_drained(30)
        assert span_counts(store) == (7, 7)
    finally:
        sink.close()
