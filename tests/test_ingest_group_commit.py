"""Few, large inserts: concurrent requests are acknowledged once durable in the log and written together by the
log's writer; the rows-building fast paths leave the garbage collector as they found it."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from execlog_otel.ingest.sink import StoreSink
from execlog_otel.ingest.wal import Wal
from execlog_otel.store.rows import SpanColumns, gc_paused


def _columns(count: int, tag: str) -> SpanColumns:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "group-commit"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for i in range(count):
        with tracer.start_as_current_span(f"{tag}-{i}", attributes={"n": i, "tag": tag}):
            pass
    provider.shutdown()
    columns, cache = SpanColumns(), {}
    for span in memory.get_finished_spans():
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
