"""The log's disk full or failing: requests are refused with 503 and a message saying so, nothing answered 503
is stored (its re-send is), nothing acknowledged is lost, and the log keeps being written to the store, so the
space it frees lets requests in again. Before, a full disk stopped the writer for good (it could not note a
batch), the log never shrank, every later request was refused, and the requests refused after being written
were recognised as already accepted when re-sent.

The disk is simulated where the log meets the operating system (a real tmpfs needs a mount this suite cannot
count on): ``SmallDisk`` is the ``os`` module as ``ingest.wal`` sees it, with writes past the capacity cut
short and then refused, as a full filesystem does."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from typing import Any

from tests.reliability_support import TableAway, span_ids
from tests.test_ingest_validation import pb_request, post_pb

from execlog_otel.config import Settings
from execlog_otel.ingest import wal as wal_module


class SmallDisk:
    """``os`` with ``directory`` on a disk of ``capacity`` bytes: a write that needs more room than is left
    writes what fits, then fails with ENOSPC (rewriting bytes already there takes no room). ``fsync_errors``:
    that many next fsyncs fail with EIO."""

    def __init__(self, directory: Path, capacity: int):
        self.directory, self.capacity, self.fsync_errors, self.refused = directory, capacity, 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _used(self) -> int:
        return sum(e.stat().st_size for e in os.scandir(self.directory) if e.is_file())

    def _ours(self, fd: int) -> Path | None:
        """The file of ``fd`` when it is on this disk (other logs of this process are not)."""
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        return path if path.parent == self.directory else None

    def write(self, fd: int, data: Any) -> int:
        if self._ours(fd) is None:
            return os.write(fd, data)
        size = os.fstat(fd).st_size
        at = size if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND else os.lseek(fd, 0, os.SEEK_CUR)
        needed = max(0, at + len(data) - size)
        room = self.capacity - self._used()
        if needed > room:
            fits = len(data) - (needed - max(room, 0))
            if fits <= 0:
                self.refused += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            data = data[:fits]
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        if self.fsync_errors and (path := self._ours(fd)) is not None and path.suffix == ".wal":  # a segment's
            self.fsync_errors -= 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.fsync(fd)


def _sent_until_accepted(url: str, requests: list, answers: list[tuple[int, bytes]]) -> None:
    """Each request sent again until it is acknowledged, as an OTLP exporter does with a 503."""
    for req in requests:
        deadline = time.monotonic() + 60
        while True:
            status, body = post_pb(url, req)
            answers.append((status, body))
            if status == 200 or time.monotonic() > deadline:
                break
            assert status == 503, body
            time.sleep(0.05)


def _stored(store) -> tuple[int, int]:
    return tuple(store.pool.query(f"SELECT count(), uniqExact(SpanId) FROM {store.table('otel_traces')}")
                 .result_rows[0])


def _log_settings(settings: Settings, tmp_path: Path) -> Settings:
    return Settings(**{**settings.__dict__, "spool_dir": str(tmp_path / "log"), "log_linger_ms": 20})


def test_a_full_disk_refuses_requests_until_the_writer_frees_it_and_loses_nothing(
        store, settings, start_server, tmp_path: Path, monkeypatch):
    (tmp_path / "log").mkdir()
    requests = [pb_request(span_ids(200, 60 + k)) for k in range(12)]
    body_bytes = len(requests[0].SerializeToString())
    disk = SmallDisk(tmp_path / "log", capacity=3 * body_bytes + 4096)  # three requests and the log's own files
    monkeypatch.setattr(wal_module, "os", disk)
    running = start_server(settings=_log_settings(settings, tmp_path))
    with TableAway(store):  # the writer cannot empty the log meanwhile: it fills
        first = [post_pb(running.url, req) for req in requests[:5]]
    assert [status for status, _ in first] == [200, 200, 200, 503, 503]
    assert all(b"the disk of the log" in body and b"is full" in body for _, body in first[3:])
    answers: list[tuple[int, bytes]] = []
    _sent_until_accepted(running.url, requests, answers)  # the first three again: re-sends, stored once
    assert [status for status, _ in answers].count(200) == len(requests)
    assert running._sink.wait_drained(30)
    assert _stored(store) == (200 * len(requests), 200 * len(requests))  # every span once
    assert running._sink.wal.status()["duplicate_requests"] == 3
    # The log the server leaves reads back whole: no damaged bytes where writes were cut off.
    monkeypatch.setattr(wal_module, "os", os)
    running.close()
    log = wal_module.Wal(tmp_path / "log", 10**9)
    assert log.status()["damaged_records"] == 0 and log.pending_records == 0
    log.close()


def test_a_failed_fsync_answers_503_and_the_resent_request_is_stored_once(
        store, settings, start_server, tmp_path: Path, monkeypatch):
    (tmp_path / "log").mkdir()
    disk = SmallDisk(tmp_path / "log", capacity=10**9)
    monkeypatch.setattr(wal_module, "os", disk)
    running = start_server(settings=_log_settings(settings, tmp_path))
    first, second = pb_request(span_ids(50, 80)), pb_request(span_ids(50, 81))
    assert post_pb(running.url, first)[0] == 200
    disk.fsync_errors = 1
    status, body = post_pb(running.url, second)
    assert status == 503 and b"could not make the rows durable" in body
    # Not taken for a re-send of a request already accepted: stored now, once.
    assert post_pb(running.url, second)[0] == 200
    assert post_pb(running.url, first)[0] == 200  # a true re-send: acknowledged, not stored again
    assert running._sink.wait_drained(30)
    assert _stored(store) == (100, 100)
    assert running._sink.wal.status()["duplicate_requests"] == 1


def test_the_log_notes_its_progress_and_frees_segments_on_a_full_disk(tmp_path: Path, monkeypatch):
    """With no room for a new file, the state is rewritten in place and a written segment is deleted before its
    request hashes are kept: else the writer could not note a batch, nor the log shrink."""
    disk = SmallDisk(tmp_path, capacity=10**9)
    monkeypatch.setattr(wal_module, "os", disk)
    log = wal_module.Wal(tmp_path, 10**9, segment_bytes=200)  # a segment per record
    records = [log.append("otel_logs", ["Body"], [[f"record {i}" * 20]], 1, digest=bytes([i + 1]) * 16)
               for i in range(3)]
    log.begin(records[:1])
    disk.capacity = disk._used()  # full
    log.mark_done(records[:1])  # no room for its request hash: the segment goes first, then the hash
    assert disk.refused == 1 and not log._path(records[0].seq).exists()
    disk.capacity = disk._used()  # full again
    log.begin(records[1:2])  # no room for a new state file: the one there is rewritten
    assert disk.refused == 2
    log.close()
    monkeypatch.setattr(wal_module, "os", os)
    again = wal_module.Wal(tmp_path, 10**9)
    assert [r.seq for r in again._pending] == [r.seq for r in records[1:]]
    assert again._pending[0].maybe_landed  # the batch noted in flight on the full disk
    assert not again.claim(bytes([1]) * 16)  # the written segment's request is still known
    again.close()


def _metrics_request(now_ns: int) -> bytes:
    """One metrics request holding a gauge and a sum: its rows go to two tables, two records in the log."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    req = ExportMetricsServiceRequest()
    scope = req.resource_metrics.add().scope_metrics.add()
    gauge = scope.metrics.add(name="queue.depth")
    gauge.gauge.data_points.add(time_unix_nano=now_ns, as_int=7)
    total = scope.metrics.add(name="runs")
    total.sum.data_points.add(time_unix_nano=now_ns, as_int=3)
    return req.SerializeToString()


def test_a_request_refused_at_its_first_table_is_stored_when_sent_again(
        store, settings, start_server, tmp_path: Path, monkeypatch):
    """A metrics request whose first table's record fails (fsync) is answered 503, and its re-send is stored
    (before, the request's hash stayed claimed: every re-send was acknowledged as a duplicate and none stored)."""
    from tests.test_ingest_validation import PB, http

    (tmp_path / "log").mkdir()
    disk = SmallDisk(tmp_path / "log", capacity=10**9)
    monkeypatch.setattr(wal_module, "os", disk)
    running = start_server(settings=_log_settings(settings, tmp_path))
    body = _metrics_request(time.time_ns())
    disk.fsync_errors = 1
    assert http("POST", running.url + "/v1/metrics", body, PB)[0] == 503
    assert http("POST", running.url + "/v1/metrics", body, PB)[0] == 200
    assert running._sink.wait_drained(30)
    stored = [store.pool.query(f"SELECT count() FROM {store.table(t)}").result_rows[0][0]
              for t in ("otel_metrics_gauge", "otel_metrics_sum")]
    assert stored == [1, 1]
