"""Few, large inserts: concurrent requests are acknowledged once durable in the log and written together by the
log's writer; the rows-building fast paths leave the garbage collector as they found it; an exporter's body is
read from the socket in a few large reads."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import requests
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from execlog_otel import connections
from execlog_otel.ingest.sink import StoreSink
from execlog_otel.ingest.wal import Wal
from execlog_otel.ingest.writer import LogWriter
from execlog_otel.store.rows import COLUMNS, SpanColumns, gc_paused


def _finished(count: int, tag: str, attributes: dict | None = None) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "group-commit"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for i in range(count):
        with tracer.start_as_current_span(f"{tag}-{i}", attributes={"n": i, "tag": tag, **(attributes or {})}):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def _columns(count: int, tag: str) -> SpanColumns:
    columns, cache = SpanColumns(), {}
    for span in _finished(count, tag):
        assert columns.add_readable_span(span, cache)
    return columns


def _stored(store) -> list[str]:
    rows = store.pool.query(f"SELECT SpanName FROM {store.table('otel_traces')} ORDER BY SpanName").result_rows
    return [r[0] for r in rows]


def test_concurrent_requests_become_one_insert(store, tmp_path: Path):
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=30.0, batch_rows=40)
    batches = [_columns(4, tag) for tag in "abcdefghij"]
    errors: list[BaseException] = []

    def send(columns: SpanColumns) -> None:
        try:
            sink.write(columns)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors  # all acknowledged: durable in the log
    # An idle writer inserts what has arrived at once (it may wake before every sender is in); whatever
    # arrives after that waits for the linger and goes in one insert: never one insert per request.
    assert sink.flush(60) and sink.wait_drained(60)
    assert sink.writer.inserts <= 2 and sink.writer.rows_written == 40
    assert _stored(store) == sorted(f"{tag}-{i}" for tag in "abcdefghij" for i in range(4))
    sink.close()


def test_gc_paused_restores_the_collector_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # an application that turned it off keeps it off
    finally:
        gc.enable()


def test_a_large_body_is_read_in_few_reads(server, monkeypatch):
    """A batch of 512 spans (~400 KB) takes a few socket reads, not one per 8 KiB (waitress' default): each read
    is a turn of the loop thread, which has to win the interpreter lock back from the request threads."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    body = encode_spans(_finished(512, "big", {"payload": "x" * 700})).SerializeToString()
    assert len(body) > 400_000
    reads: list[int] = []
    received = connections.DeadlineChannel.received

    def counting(self, data: bytes) -> bool:
        reads.append(len(data))
        return received(self, data)

    monkeypatch.setattr(connections.DeadlineChannel, "received", counting)
    resp = requests.post(server.url + "/v1/traces", data=body, timeout=60,
                         headers={"Content-Type": "application/x-protobuf"})
    assert resp.status_code == 200
    assert sum(reads) >= len(body)
    assert len(reads) <= 12  # at 8 KiB a read, at least 49


def test_the_writer_converts_each_shared_resource_map_once(store, monkeypatch):
    """A request's spans share one resource map object: the Arrow conversion takes each distinct one once (and
    repeats it in Arrow), and the store gets every row's own resource all the same."""
    import pyarrow as pa

    from execlog_otel.store import span_arrow

    columns = SpanColumns()
    for tag in "ab":
        one = _columns(300, tag)
        for target, col in zip(columns.columns, one.columns, strict=True):
            target.extend(col)
    resources = columns.resource_attributes
    resources[599] = {**resources[599], "service.name": "odd-one"}  # its own object, unshared
    converted: list[int] = []
    array = pa.array

    def counting(values, *args, **kwargs):
        if kwargs.get("type") == span_arrow.SCHEMA.field("ResourceAttributes").type and "service.name" in values[0]:
            converted.append(len(values))  # resource maps (span attributes have no service.name)
        return array(values, *args, **kwargs)

    monkeypatch.setattr(span_arrow.pa, "array", counting)
    store.insert_span_columns(columns.columns, {"insert_deduplicate": 0})
    assert sum(converted) == 3  # 600 rows, three distinct resource objects
    rows = store.pool.query(f"SELECT ResourceAttributes['service.name'], count() FROM {store.table('otel_traces')} "
                            "GROUP BY 1 ORDER BY 1").result_rows
    assert rows == [("group-commit", 599), ("odd-one", 1)]


def _written(sink: StoreSink, rows: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while sink.writer.rows_written < rows and time.monotonic() < deadline:
        time.sleep(0.05)
    return sink.writer.rows_written >= rows


def test_the_end_of_a_burst_is_written_without_waiting_out_the_linger(store, tmp_path: Path):
    """A busy writer inserts at most once per linger (15 s here), but once nothing has arrived for a fifth of it
    (3 s) what is pending goes in: the last requests of a burst are not held for the rest of the linger."""
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=15.0)
    sink.write(_columns(3, "first"))
    assert _written(sink, 3, 60)  # an idle writer inserts at once
    sink.write(_columns(4, "last"))  # right after an insert: the linger alone would hold it ~15 s
    assert _written(sink, 7, 10) and sink.writer.inserts == 2
    assert _stored(store) == sorted([f"first-{i}" for i in range(3)] + [f"last-{i}" for i in range(4)])
    sink.close()


def test_a_trickle_of_requests_is_written_about_once_per_linger(store, tmp_path: Path):
    """Requests a little more than a fifth of the linger apart were each the end of a burst, so each got an
    insert of its own (≈ 0.2 s of CPU in the views, whatever its size: a request of 50 spans every 0.4 s kept
    39 % of a core busy); an early insert is now made at most once per EARLY_EVERY lingers."""
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=1.0)
    for i in range(12):  # 3.6 s of requests 0.3 s apart: the quiet rule (0.2 s) alone gave 11-12 inserts
        sink.write(_columns(2, f"t{i:02d}"))
        time.sleep(0.3)
    assert sink.flush(60) and sink.wait_drained(60)
    assert sink.writer.rows_written == 24
    assert sink.writer.inserts <= 7
    sink.close()


def test_the_views_run_in_parallel_only_while_the_writer_is_behind(store, tmp_path: Path, monkeypatch):
    """An insert that took longer than the linger means a backlog: the next insert runs the materialized views
    in parallel (every core); one that kept up leaves them sequential (a core for the receivers)."""
    seen: list[dict] = []
    insert = store.insert_columns

    def observed(table, names, columns, settings=None):
        seen.append(dict(settings or {}))
        if len(seen) == 1:
            time.sleep(2.5)  # the first insert falls behind a 2-second linger
        return insert(table, names, columns, settings=settings)

    monkeypatch.setattr(store, "insert_columns", observed)
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=2.0)
    for n, tag in enumerate("abc", start=1):
        sink.write(_columns(2, tag))
        assert sink.flush(60) and sink.writer.rows_written == 2 * n
    assert [s.get("parallel_view_processing") for s in seen] == [None, 1, None]
    assert len(_stored(store)) == 6
    sink.close()


def test_the_views_run_in_parallel_while_more_waits_than_one_batch(store, tmp_path: Path, monkeypatch):
    """A burst larger than a batch is a backlog from its first insert on: those run the views in parallel;
    the last batch, with nothing behind it, leaves them sequential while requests keep arriving (a core for the
    receivers), and runs them in parallel too when none arrived for a fifth of the linger (no receiver is busy)."""
    seen: list[dict] = []
    insert = store.insert_columns

    def observed(table, names, columns, settings=None):
        seen.append(dict(settings or {}))
        return insert(table, names, columns, settings=settings)

    monkeypatch.setattr(store, "insert_columns", observed)
    for arriving, last in ((True, None), (False, 1)):
        seen.clear()
        wal = Wal(tmp_path / str(arriving), max_bytes=10_000_000)
        for tag in "abc":
            wal.append("otel_traces", COLUMNS, _columns(2, f"{tag}{arriving}").columns, 2)
        writer = LogWriter(wal, store, batch_rows=2, linger_s=60)
        if arriving:
            writer.notify()  # a request was just received (the writer's first two inserts take longer than this)
        assert writer.wait_drained(60)
        assert [s.get("parallel_view_processing") for s in seen] == [1, 1, last]
        writer.close()
        wal.close()
    assert len(_stored(store)) == 12


def test_a_small_remainder_goes_with_the_last_full_batch(store, tmp_path: Path, monkeypatch):
    """What a full batch would leave behind, when less than a quarter of a batch, is written with it (each insert
    costs the views' fixed work): 10 rows with batches of 8 are one insert; 12 rows are two, 8 and 4."""
    sizes: list[int] = []
    insert = store.insert_columns

    def observed(table, names, columns, settings=None):
        sizes.append(columns.num_rows if hasattr(columns, "num_rows") else len(columns[0]))
        return insert(table, names, columns, settings=settings)

    monkeypatch.setattr(store, "insert_columns", observed)
    for records, expected in ((5, [10]), (6, [8, 4])):
        sizes.clear()
        wal = Wal(tmp_path / str(records), max_bytes=10_000_000)
        for i in range(records):
            wal.append("otel_traces", COLUMNS, _columns(2, f"r{records}-{i}").columns, 2)
        writer = LogWriter(wal, store, batch_rows=8, linger_s=60)
        assert writer.wait_drained(60)
        assert sizes == expected
        writer.close()
        wal.close()
    assert len(_stored(store)) == 22


def test_rows_that_waited_a_linger_behind_another_tables_are_written_at_once(store, tmp_path: Path, monkeypatch):
    """A batch holds one table's records in order, so signals interleaved (spans, log records, spans) make three
    batches; each is due at once when its rows have waited a linger already (before, one batch per linger: with
    traces and logs alternating, one request per linger was written and the wait grew without bound)."""
    from execlog_otel.ingest import otlp_logs
    from execlog_otel.ingest import wal as wal_module

    class MinuteAgo:  # the records were appended a minute ago, before a writer ran
        def __getattr__(self, name: str):
            return getattr(time, name)

        @staticmethod
        def time_ns() -> int:
            return time.time_ns() - 60 * 10**9

    log = Wal(tmp_path, max_bytes=10_000_000)
    monkeypatch.setattr(wal_module, "time", MinuteAgo())
    spans = _columns(2, "t")
    log.append("otel_traces", COLUMNS, spans.columns, len(spans))
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for text in ("one", "two"):
        scope.log_records.add(time_unix_nano=time.time_ns()).body.string_value = text
    log.append(otlp_logs.TABLE, otlp_logs.COLUMNS, otlp_logs.to_columns(request).columns, 2)
    more = _columns(2, "u")
    log.append("otel_traces", COLUMNS, more.columns, len(more))
    monkeypatch.setattr(wal_module, "time", time)
    sink = StoreSink(store, log, linger_s=30.0)
    # Three batches (spans, log records, spans): before, the third waited out the linger (the second took the
    # one early insert the writer makes per five lingers).
    deadline = time.monotonic() + 20  # watched, not flushed (wait_drained asks for a flush)
    while (sink.wal.pending_rows or sink.writer.inserts < 3) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sink.wal.pending_rows == 0 and sink.writer.inserts == 3, sink.wal.status()
    sink.close()


def test_a_flush_given_up_leaves_the_writer_lingering(store, tmp_path: Path, monkeypatch):
    """A flush that timed out (an exporter's force_flush while an insert was slow) is withdrawn: a trickle of
    requests after it is still written about once per linger (before, the flush request stayed until the log was
    seen empty, so every request got an insert of its own)."""
    insert = store.insert_columns
    slow = threading.Event()

    def first_slow(table, names, columns, settings=None):
        if not slow.is_set():
            slow.set()
            time.sleep(1.5)
        return insert(table, names, columns, settings=settings)

    monkeypatch.setattr(store, "insert_columns", first_slow)
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=2.0)
    sink.write(_columns(2, "slow"))
    assert slow.wait(10)
    assert not sink.flush(0.2)  # given up while the insert runs
    assert _written(sink, 2, 20)
    before = sink.writer.inserts
    for i in range(12):  # 3.6 s of requests 0.3 s apart
        sink.write(_columns(2, f"t{i}"))
        time.sleep(0.3)
    assert _written(sink, 26, 20)
    # about one per linger, the first and one early (3 seen); before: 8-9 (one per request, a few coalesced)
    assert sink.writer.inserts - before <= 6, sink.writer.inserts - before
    sink.close()
