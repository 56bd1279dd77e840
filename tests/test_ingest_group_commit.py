"""Group commit in the sink: concurrent senders' requests share one insert; a lone sender never waits;
and the rows-building fast paths leave the garbage collector as they found it."""

from __future__ import annotations

import gc
import threading

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from execlog_otel.ingest import sink as sink_mod
from execlog_otel.ingest.sink import StoreSink
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
        columns.add_readable_span(span, cache)
    return columns


def _stored(store) -> list[str]:
    rows = store.pool.query(f"SELECT SpanName FROM {store.table('otel_traces')} ORDER BY SpanName").result_rows
    return [r[0] for r in rows]


def test_concurrent_requests_wait_for_each_other_and_share_one_insert(store, monkeypatch):
    sink = StoreSink(store)
    sink._last_group, sink._last_insert_s = 3, 60.0  # as after an insert that carried three senders' requests
    monkeypatch.setattr(sink_mod, "MAX_LINGER_S", 30.0)  # the writer waits until all three are queued
    batches = [_columns(4, tag) for tag in ("a", "b", "c")]
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
    assert not errors and not any(t.is_alive() for t in threads)
    assert sink.inserts == 1 and sink.spans_written == 12
    assert _stored(store) == sorted(f"{tag}-{i}" for tag in "abc" for i in range(4))


def test_a_lone_sender_inserts_at_once(store, monkeypatch):
    sink = StoreSink(store)
    monkeypatch.setattr(sink_mod, "MAX_LINGER_S", 30.0)
    for tag in ("x", "y"):  # one request at a time: each is its own insert, none waits for company
        sink.write(_columns(2, tag))
    assert sink.inserts == 2 and sink._last_group == 1
    assert _stored(store) == ["x-0", "x-1", "y-0", "y-1"]


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
