"""The write-ahead log and its writer: order, bounds, group fsync, damaged records, poison rows, dead letter,
crash between insert and mark, re-sent requests. Real chDB store, real files; counts asserted."""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from benchmarks.common import clean_env
from tests.reliability_support import span_ids

from execlog_otel.ingest import dead_letter as dl
from execlog_otel.ingest.sink import StoreSink, request_hash
from execlog_otel.ingest.wal import (
    ARROW,
    HEADER_SIZE,
    MAGIC,
    Wal,
    WalError,
    encode_payload,
    encode_record,
    read_status,
)
from execlog_otel.ingest.writer import LogWriter
from execlog_otel.store import span_arrow
from execlog_otel.store.rows import COLUMNS, SpanColumns


def columns_for(ids: list[tuple[str, str]], parent: str = "", name: str = "step") -> SpanColumns:
    cols = SpanColumns()
    now = time.time_ns()
    for tid, sid in ids:
        assert cols.add(start_ns=now, end_ns=now + 10, trace_id=tid, span_id=sid, parent_span_id=parent,
                        trace_state="", name=name, kind="Internal", service_name="svc",
                        resource={"service.name": "svc"}, scope_name="t", scope_version="", attributes={"k": "v"},
                        status_code="Unset", status_message="")
    return cols


def first_name(wal: Wal, rec) -> str:
    """The span name of a record's first row, read back from the log (spans are kept as Arrow streams)."""
    table, names, columns = wal.read(rec)
    assert table == "otel_traces" and names == COLUMNS
    return span_arrow.to_columns(columns)[COLUMNS.index("SpanName")][0]


def append(wal: Wal, cols: SpanColumns, digest: bytes = bytes(16)):
    return wal.append("otel_traces", COLUMNS, cols.columns, len(cols), digest)


def stored(store) -> tuple[int, int]:
    return tuple(store.pool.query(f"SELECT count(), uniqExact(SpanId) FROM {store.table('otel_traces')}")
                 .result_rows[0])


def stored_ids(store) -> set[str]:
    return {r[0] for r in store.pool.query(f"SELECT SpanId FROM {store.table('otel_traces')}").result_rows}


def drain(wal: Wal, store, **kw) -> LogWriter:
    writer = LogWriter(wal, store, linger_s=0.01, **kw)
    assert writer.wait_drained(60), writer.status()
    return writer


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.wal"))


# --- the log itself -------------------------------------------------------------------------------------

def test_log_replays_in_order_across_reopen_and_ignores_a_torn_tail(tmp_path: Path, store, caplog):
    wal = Wal(tmp_path, max_bytes=10_000_000, segment_bytes=1500)  # small segments: several files
    batches = [columns_for(span_ids(2, 1), name=f"b{i}") for i in range(12)]
    for cols in batches:
        append(wal, cols)
    assert len(segments(tmp_path)) > 1
    wal.mark_done(wal.head(1))  # the first record was written
    wal.close()
    with open(segments(tmp_path)[-1], "ab") as f:  # a crash in mid-append: a partial record at the end
        f.write(MAGIC + b"\x00\x00\x10\x00garbage")
    caplog.set_level(logging.WARNING)
    wal = Wal(tmp_path, max_bytes=10_000_000, segment_bytes=1500)
    assert wal.pending_records == 11 and wal.pending_rows == 22
    assert "incomplete record" in caplog.text and wal.damaged_records == 0
    seen = []
    while head := wal.head(1):
        seen.append(first_name(wal, head[0]))
        wal.mark_done(head)
    assert seen == [f"b{i}" for i in range(1, 12)]
    wal.close()
    assert segments(tmp_path) == [] or read_status(tmp_path, 10_000_000)["pending_spans"] == 0


def test_log_is_bounded_drops_oldest_counts_and_logs(tmp_path: Path, caplog):
    caplog.set_level(logging.ERROR, logger="execlog_otel.ingest.wal")
    wal = Wal(tmp_path, max_bytes=6000, segment_bytes=1500)
    for i in range(40):
        append(wal, columns_for(span_ids(3, 2), name=f"b{i}"))
        assert wal.size_bytes <= 6000
    status = wal.status()
    assert status["dropped_records"] > 0 and status["dropped_spans"] == 3 * status["dropped_records"]
    assert status["pending_records"] + status["dropped_records"] == 40
    assert "dropped the oldest" in caplog.text
    kept = []
    while head := wal.head(1):
        kept.append(int(first_name(wal, head[0])[1:]))
        wal.mark_done(head)
    assert kept == list(range(40 - len(kept), 40))  # the newest survive, in order
    wal.close()
    assert read_status(tmp_path, 6000)["dropped_spans"] == status["dropped_spans"]  # survives a restart


def test_log_directory_has_one_owner(tmp_path: Path):
    wal = Wal(tmp_path, max_bytes=100_000)
    with pytest.raises(WalError, match="in use by another process"):
        Wal(tmp_path, max_bytes=100_000)
    wal.close()


def test_concurrent_appends_share_fsyncs_and_all_survive(tmp_path: Path, monkeypatch):
    """Group fsync: appenders waiting while one fsync runs are covered by the next one."""
    calls = []
    real = os.fsync

    def slow_fsync(fd):
        calls.append(fd)
        time.sleep(0.05)  # a slow disk: appenders pile up behind the fsync in progress
        real(fd)

    wal = Wal(tmp_path, max_bytes=10_000_000)
    monkeypatch.setattr(os, "fsync", slow_fsync)
    threads = [threading.Thread(target=append, args=(wal, columns_for(span_ids(2, 3)))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(os, "fsync", real)
    assert wal.pending_records == 16
    assert len(calls) < 16  # fewer fsyncs than appends
    wal.close()
    assert Wal(tmp_path, max_bytes=10_000_000).pending_records == 16


# --- recovery of damaged logs: loss limited to the damaged record, counted, no stall ---------------------

def _three_records(tmp_path: Path) -> tuple[list[SpanColumns], list]:
    wal = Wal(tmp_path, max_bytes=10_000_000)
    batches = [columns_for(span_ids(100, 4)) for _ in range(3)]
    recs = [append(wal, c) for c in batches]
    wal.close()
    return batches, recs


def _ids(cols: SpanColumns) -> set[str]:
    return set(cols.span_id)


@pytest.mark.parametrize("damage", ["flipped payload byte", "bad header", "valid crc, not the encoding",
                                    "valid crc, truncated arrow stream", "valid crc, arrow of other rows",
                                    "valid crc, wrong column count", "unknown table"])
def test_a_damaged_record_loses_only_itself(tmp_path: Path, store, caplog, damage):
    batches, recs = _three_records(tmp_path)
    path = segments(tmp_path)[0]
    data = bytearray(path.read_bytes())
    mid = recs[1]
    if damage == "flipped payload byte":
        data[mid.offset + HEADER_SIZE + 50] ^= 0xFF
    elif damage == "bad header":
        data[mid.offset + 5] ^= 0xFF  # the length field: the header checksum catches it
    else:
        if damage == "valid crc, not the encoding":
            payload = b"\x00not json at all" * 10
        elif damage == "valid crc, truncated arrow stream":
            payload = encode_payload("otel_traces", COLUMNS, batches[1].columns)
            assert payload.startswith(ARROW)
            payload = payload[:len(payload) // 2]
        elif damage == "valid crc, arrow of other rows":  # the stream holds 99 rows, the header says 100
            payload = encode_payload("otel_traces", COLUMNS, [c[1:] for c in batches[1].columns])
        elif damage == "valid crc, wrong column count":
            payload = encode_payload("otel_traces", COLUMNS, batches[1].columns[:-1])
        else:
            payload = encode_payload("system_users", COLUMNS, batches[1].columns)
        record = encode_record(payload, 100, mid.accepted_ns, bytes(16))
        data[mid.offset:mid.end] = record
    path.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING)
    wal = Wal(tmp_path, max_bytes=10_000_000)
    writer = drain(wal, store)
    assert stored_ids(store) == _ids(batches[0]) | _ids(batches[2])
    assert stored(store) == (200, 200)
    status = wal.status()
    assert status["damaged_records"] == 1
    if damage != "bad header":
        assert status["lost_spans"] == 100  # the header still told how many
    assert "damaged" in caplog.text or "cannot be read back" in caplog.text
    # The writer keeps working after it.
    later = columns_for(span_ids(5, 4))
    append(wal, later)
    assert writer.wait_drained(30)
    assert stored(store) == (205, 205)
    writer.close()
    wal.close()


def test_a_done_position_past_the_end_loses_nothing_and_duplicates_nothing(tmp_path: Path, store, caplog):
    batches, recs = _three_records(tmp_path)
    store.insert_span_columns(batches[0].columns)  # the first record was written before the crash
    (tmp_path / "state.json").write_text(json.dumps({"done": [recs[0].seq, recs[-1].end + 12345],
                                                     "inflight": None}))
    caplog.set_level(logging.WARNING)
    wal = Wal(tmp_path, max_bytes=10_000_000)
    assert "not a record boundary" in caplog.text
    drain(wal, store).close()
    assert stored(store) == (300, 300)
    wal.close()


def test_stray_files_are_ignored_with_a_warning_and_serve_starts(tmp_path: Path):
    data = tmp_path / "data"
    log_dir = data / "spool"
    log_dir.mkdir(parents=True)
    (log_dir / "seg-backup.log").write_bytes(b"whatever was copied here")
    (log_dir / "notes.txt").write_text("hello")
    (log_dir / "state.json").write_text("{not json")
    from benchmarks.common import ServeProcess
    from tests.reliability_support import otlp_json, post_spans

    serve = ServeProcess(data)
    try:
        assert post_spans(serve.url, otlp_json(span_ids(3, 5)))[0] == 200
    finally:
        assert serve.stop() == 0
    err = serve.stderr()
    assert "ignoring seg-backup.log" in err and "ignoring notes.txt" in err
    assert (log_dir / "seg-backup.log").exists()


# --- the writer: poison rows, outages, crash between insert and mark -------------------------------------

def poison(n_good: int = 2) -> SpanColumns:
    cols = columns_for(span_ids(n_good + 1, 6))
    cols.span_name[1] = "\ud800 lone surrogate"  # text no encoder accepts: the store refuses this row only
    return cols


def test_a_poison_row_goes_to_the_dead_letter_file_and_nothing_waits_behind_it(tmp_path: Path, store):
    wal = Wal(tmp_path, max_bytes=10_000_000)
    good_before, bad, good_after = columns_for(span_ids(40, 7)), poison(30), columns_for(span_ids(40, 7))
    for cols in (good_before, bad, good_after):
        append(wal, cols)
    writer = drain(wal, store)
    assert stored(store) == (40 + 30 + 40, 110)
    assert writer.dead_letter.count == 1
    (entry,) = list(dl.entries(tmp_path))
    assert entry["row"]["SpanId"] == bad.span_id[1] and "surrogate" in entry["reason"]
    assert entry["row"]["SpanName"] == "\ud800 lone surrogate"  # kept as it came
    # Re-queued, it fails again and goes back; later rows are still written.
    writer.close()
    from execlog_otel.ingest.writer import requeue_into

    assert requeue_into(wal, dl.DeadLetter(tmp_path), None) == 1
    append(wal, columns_for(span_ids(3, 7)))
    writer = drain(wal, store)
    assert stored(store) == (113, 113) and writer.dead_letter.count == 1
    writer.close()
    wal.close()


def test_a_row_the_store_refuses_in_an_arrow_batch_is_isolated_as_it_was_sent(tmp_path: Path, store, monkeypatch):
    """Spans kept as Arrow streams: the batch is split by slices until the refused row is alone; its dead-letter
    entry holds the row's own values (nanosecond timestamps, attribute maps), and every other row is stored."""
    from clickhouse_connect.driver.exceptions import DataError

    wal = Wal(tmp_path, max_bytes=10_000_000)
    batches = [columns_for(span_ids(25, 11)) for _ in range(2)]
    bad = batches[1].span_id[7]
    for cols in batches:
        assert encode_payload("otel_traces", COLUMNS, cols.columns).startswith(ARROW)
        append(wal, cols)
    insert = store.insert_columns

    def refusing(table, names, columns, settings=None):
        if bad in columns.column("SpanId").to_pylist():  # the store's own refusal, for one row
            raise DataError("Code: 27. Cannot parse input: this row")
        return insert(table, names, columns, settings=settings)

    monkeypatch.setattr(store, "insert_columns", refusing)
    writer = drain(wal, store)
    assert stored(store) == (49, 49) and bad not in stored_ids(store)
    (entry,) = list(dl.entries(tmp_path))
    row = entry["row"]
    assert row["SpanId"] == bad and "Cannot parse input" in entry["reason"]
    assert row["Timestamp"] == batches[1].columns[COLUMNS.index("Timestamp")][7]
    assert row["SpanAttributes"] == {"k": "v"} and row["ResourceAttributes"] == {"service.name": "svc"}
    writer.close()
    wal.close()


def test_dead_letter_command_lists_exports_and_requeues(tmp_path: Path, store):
    wal = Wal(tmp_path, max_bytes=10_000_000)
    append(wal, poison(3))
    drain(wal, store).close()
    wal.close()
    env = clean_env()
    run = [sys.executable, "-m", "execlog_otel.cli", "dead-letter"]
    out = subprocess.run([*run, "list", "--log-dir", str(tmp_path)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "1 spans in the dead-letter file" in out.stderr and "surrogate" in out.stdout
    entry_id = out.stdout.split()[0]
    out = subprocess.run([*run, "export", "--log-dir", str(tmp_path)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert json.loads(out.stdout)["id"] == entry_id
    out = subprocess.run([*run, "requeue", "--log-dir", str(tmp_path), "--id", entry_id], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0 and "re-queued 1 spans" in out.stdout, out.stderr
    assert list(dl.entries(tmp_path)) == []
    wal = Wal(tmp_path, max_bytes=10_000_000)
    assert wal.pending_rows == 1
    wal.close()


def test_store_outage_keeps_order_and_retries_with_backoff(tmp_path: Path, store):
    from tests.reliability_support import TableAway

    wal = Wal(tmp_path, max_bytes=10_000_000)
    writer = LogWriter(wal, store, linger_s=0.01, retry_interval_s=0.05, max_retry_interval_s=0.2)
    with TableAway(store):
        for i in range(5):
            append(wal, columns_for(span_ids(10, 8), name=f"b{i}"))
        deadline = time.monotonic() + 30
        while not writer.last_error and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "otel_traces" in writer.last_error and wal.pending_rows == 50
    assert writer.wait_drained(60)
    assert stored(store) == (50, 50) and writer.last_error == ""
    writer.close()
    wal.close()


def test_a_batch_inserted_before_a_crash_is_not_written_again(tmp_path: Path, store):
    """The insert landed, then the process died before marking it: the in-flight rows are checked first."""
    wal = Wal(tmp_path, max_bytes=10_000_000)
    landed = [columns_for(span_ids(20, 9)) for _ in range(3)]
    recs = [append(wal, c) for c in landed]
    wal.begin(recs[:2])  # the first two were in flight ...
    store.insert_span_columns([c[:10] for c in landed[0].columns])  # ... half of the first landed ...
    store.insert_span_columns(landed[1].columns)  # ... and all of the second
    wal.close()  # crash: never marked done
    wal = Wal(tmp_path, max_bytes=10_000_000)
    drain(wal, store).close()
    assert stored(store) == (60, 60)
    wal.close()


def test_the_writer_survives_an_exception_of_one_batch(tmp_path: Path, store, monkeypatch):
    wal = Wal(tmp_path, max_bytes=10_000_000)
    writer = LogWriter(wal, store, linger_s=0.01, retry_interval_s=0.05)
    real = writer._next_batch
    failures = []

    def broken_once():
        if not failures:
            failures.append(1)
            raise RuntimeError("something unexpected")
        return real()

    monkeypatch.setattr(writer, "_next_batch", broken_once)
    append(wal, columns_for(span_ids(4, 10)))
    assert writer.wait_drained(30)
    assert failures and stored(store) == (4, 4) and writer._thread.is_alive()
    writer.close()
    wal.close()


# --- re-sent requests are stored once ---------------------------------------------------------------------

def test_a_resent_request_is_stored_once_even_after_a_restart(tmp_path: Path, store):
    body = b"the same request body"
    digest = request_hash(body)
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=0.01)
    assert not sink.seen(digest)
    sink.write(columns_for(span_ids(6, 11)), digest)
    assert sink.seen(digest)  # the answer was lost; the client sends it again
    assert sink.wait_drained(30)
    sink.close()
    # After a restart the written segment is deleted; the hash is still known (dedup.idx).
    sink = StoreSink(store, Wal(tmp_path, max_bytes=10_000_000), linger_s=0.01)
    assert segments(tmp_path) == []
    assert sink.seen(digest)
    assert not sink.seen(request_hash(b"another body"))
    sink.close()
    assert stored(store) == (6, 6)
    assert (tmp_path / "dedup.idx").stat().st_size == struct.calcsize(">16sQ")


def test_inserts_into_a_clickhouse_server_are_async_unless_configured_otherwise():
    from execlog_otel.config import Settings

    on = Settings.from_env(environ={"EXECLOG_CLICKHOUSE_URL": "https://ch.example:8443/otel"})
    assert on.insert_settings == {"async_insert": 1, "wait_for_async_insert": 1}
    off = Settings.from_env(environ={"EXECLOG_CLICKHOUSE_URL": "http://ch:8123/otel", "EXECLOG_ASYNC_INSERT": "false"})
    assert "async_insert" not in off.insert_settings
    assert "async_insert" not in Settings.from_env(environ={}).insert_settings  # the embedded store
    out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "settings"], capture_output=True, text=True,
                         env=clean_env(), timeout=120)
    assert "| `EXECLOG_ASYNC_INSERT` | `true` | Inserts into a ClickHouse server" in out.stdout


def test_spans_left_in_an_earlier_versions_outage_spool_move_into_the_log(tmp_path: Path, store):
    import zlib

    from execlog_otel.ingest.legacy_spool import import_legacy

    def old_record(cols: SpanColumns) -> bytes:
        payload = zlib.compress(json.dumps({"id": "x", "tried": False, "columns": cols.columns}).encode())
        return struct.pack(">4sIII", b"EXS1", len(payload), zlib.crc32(payload), len(cols)) + payload

    written, waiting = columns_for(span_ids(3, 12)), columns_for(span_ids(4, 12))
    first = old_record(written)
    (tmp_path / "seg-000000000001.log").write_bytes(first + old_record(waiting))
    (tmp_path / "seg-000000000001.done").write_text(str(len(first)))  # the first batch was written back then
    wal = Wal(tmp_path, max_bytes=10_000_000)
    assert import_legacy(wal) == 4
    assert not list(tmp_path.glob("seg-*.log"))
    drain(wal, store).close()
    assert stored_ids(store) == set(waiting.span_id)
    wal.close()


def test_a_gone_runners_exporter_log_is_written_by_the_next_exporter(tmp_path: Path, store, caplog):
    """A second runner logs to ``exporter-<pid>``; when it stops with rows pending, the next exporter adopts them
    (a log still held by a live process is left alone)."""
    from execlog_otel.config import Settings
    from execlog_otel.ingest.exporter import ClickHouseSpanExporter

    gone = Wal(tmp_path / "exporter-4242", max_bytes=10_000_000)
    left = [columns_for(span_ids(30, 11)), columns_for(span_ids(12, 12))]
    for c in left:
        append(gone, c)
    gone.close()  # that runner is gone, its rows never written
    alive = Wal(tmp_path / "exporter-4343", max_bytes=10_000_000)
    append(alive, columns_for(span_ids(5, 13)))
    caplog.set_level(logging.WARNING)
    exporter = ClickHouseSpanExporter(store=store, settings=Settings.from_env(environ={}),
                                      spool_dir=tmp_path / "exporter")
    try:
        assert exporter._sink.wait_drained(60), exporter._sink.status()
        assert stored_ids(store) == {sid for c in left for sid in c.span_id}
        assert stored(store) == (42, 42)
        assert not (tmp_path / "exporter-4242").exists()
        assert alive.pending_rows == 5 and (tmp_path / "exporter-4343").exists()
        assert "moved 42 rows" in caplog.text
    finally:
        exporter.shutdown()
        alive.close()


def log_rows(n: int, body: str) -> list[list]:
    from execlog_otel.ingest import otlp_logs

    now = time.time_ns()
    rows = [(now + i, "", "", 0, "INFO", 9, "svc", f"{body} {i}", "", {"service.name": "svc"}, "", "t", "", {}, {},
             "") for i in range(n)]
    cols = [list(c) for c in zip(*rows, strict=True)]
    assert len(cols) == len(otlp_logs.COLUMNS)
    return cols


def test_log_records_inserted_before_a_crash_are_stored_once(tmp_path: Path, store, monkeypatch):
    """Logs carry no ids to check: the batch in flight at a crash is inserted again under the same
    deduplication token, and ClickHouse keeps one copy (metric points take the same path)."""
    from execlog_otel.ingest import otlp_logs

    table = store.table(otlp_logs.TABLE)
    before = store.pool.query(f"SELECT count() FROM {table} WHERE Body LIKE 'crash-once %'").result_rows[0][0]
    wal = Wal(tmp_path, max_bytes=10_000_000)
    for n in (30, 12):
        wal.append(otlp_logs.TABLE, otlp_logs.COLUMNS, log_rows(n, "crash-once"), n)
    died = threading.Event()
    monkeypatch.setattr(wal, "mark_done", lambda records: (died.set(), threading.Event().wait()))  # dies here
    LogWriter(wal, store, linger_s=0.01)
    assert died.wait(60)
    monkeypatch.undo()
    wal.close()
    wal = Wal(tmp_path, max_bytes=10_000_000)
    assert wal.pending_rows == 42
    for n in (5,):  # accepted after the restart: inserted too, once
        wal.append(otlp_logs.TABLE, otlp_logs.COLUMNS, log_rows(n, "crash-once"), n)
    drain(wal, store).close()
    after = store.pool.query(f"SELECT count() FROM {table} WHERE Body LIKE 'crash-once %'").result_rows[0][0]
    assert after - before == 47
    wal.close()
