"""The log when its disk fails while requests run side by side: a record is acknowledged only once an fsync of
its own file succeeded, an acknowledged one is never taken back, every waiter wakes whatever failed, a copy of a
request still being stored is not acknowledged as a duplicate, and the dedup index stays readable and bounded.

Each case was found by a review with a reproduction (threads held at a chosen call); the failures are injected
where the log meets the operating system (``ingest.wal.os``), threads held at the calls named."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from execlog_otel.ingest import wal as wal_module
from execlog_otel.ingest.wal import Wal, WalError


class HookedOs:
    """``os`` as ``ingest.wal`` sees it, with a hook called before each fsync, write and dup (it may block or
    raise): ``hook(call, thread name, path of the fd or None)``; for a write it may return how many bytes fit."""

    def __init__(self) -> None:
        self.hook: Callable[[str, str, Path | None], None] | None = None
        self.fsynced: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def _path(fd: int) -> Path | None:
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None

    def _call(self, call: str, fd: int) -> None:
        if self.hook is not None:
            self.hook(call, threading.current_thread().name, self._path(fd))

    def fsync(self, fd: int) -> None:
        self._call("fsync", fd)
        os.fsync(fd)
        self.fsynced.append(getattr(self._path(fd), "name", ""))

    def write(self, fd: int, data: Any) -> int:
        fits = self.hook("write", threading.current_thread().name, self._path(fd)) if self.hook else None
        return os.write(fd, data[:fits] if fits is not None else data)

    def dup(self, fd: int) -> int:
        self._call("dup", fd)
        return os.dup(fd)


class Held:
    """A hook holding ``thread`` in its first ``call`` until ``release`` is set, then failing it with ``error``
    (None: not failing)."""

    def __init__(self, thread: str, call: str = "fsync", error: int | None = errno.EIO):
        self.thread, self.call, self.error = thread, call, error
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, call: str, thread: str, path: Path | None) -> None:
        if call == self.call and thread == self.thread and not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
            if self.error is not None:
                raise OSError(self.error, os.strerror(self.error))


@pytest.fixture
def hooked(monkeypatch) -> HookedOs:
    fake = HookedOs()
    monkeypatch.setattr(wal_module, "os", fake)
    return fake


def _append(log: Wal, i: int, digest: bytes = wal_module.NO_HASH):
    return log.append("otel_logs", ["Body"], [[f"record {i} " * 20]], 1, digest)


def _started(name: str, fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["ok"] = fn()
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            box["err"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, box


def test_a_record_in_a_segment_opened_during_a_failed_fsync_waits_for_its_own_fsync(tmp_path, hooked):
    """A's group fsync of segment 1 fails while B fills it and opens segment 2 (whose rotation fsynced segment 1):
    B's record is acknowledged only after an fsync of segment 2, and A's record, fsynced by the rotation, stays.
    Before, the failure counted every append so far as settled (B acknowledged with segment 2 never fsynced)."""
    log = Wal(tmp_path / "log", 10**9, segment_bytes=600)  # two records a segment
    first = _append(log, 0, b"0" * 16)
    hooked.hook = held = Held("A")
    a, a_box = _started("A", lambda: _append(log, 1, b"1" * 16))
    assert held.entered.wait(10)
    b, b_box = _started("B", lambda: _append(log, 2, b"2" * 16))  # segment 1 is full: B opens segment 2
    b.join(0.5)
    held.release.set()
    a.join(10), b.join(10)
    assert "ok" in b_box and b_box["ok"].seq == 2, b_box
    assert hooked.fsynced.count("seg-000000000002.wal") >= 1  # fsynced before B was answered
    assert "ok" in a_box, a_box  # the rotation fsynced segment 1 after A's write
    assert not first.undone and [r.digest for r in log.head(10**6)] == [b"0" * 16, b"1" * 16, b"2" * 16]
    log.close()
    assert [r.digest for r in Wal(tmp_path / "log", 10**9).head(10**6)] == [b"0" * 16, b"1" * 16, b"2" * 16]


def test_a_failed_fsync_while_another_request_rotates_never_takes_back_an_acknowledged_record(tmp_path, hooked):
    """The failing fsync's request is told so, the one that found the disk full too, and the record acknowledged
    before both is still in the log, also after a restart (before, it was cut out of its segment for good)."""
    log = Wal(tmp_path / "log", 10**9, segment_bytes=600)
    first = _append(log, 0, b"0" * 16)
    held = Held("A")

    def hook(call: str, thread: str, path: Path | None) -> None:
        if call == "write" and path is not None and path.name == "seg-000000000002.wal":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        held(call, thread, path)

    hooked.hook = hook
    a, a_box = _started("A", lambda: _append(log, 1, b"1" * 16))
    assert held.entered.wait(10)
    b, b_box = _started("B", lambda: _append(log, 2, b"2" * 16))
    b.join(10)
    held.release.set()
    a.join(10)
    assert isinstance(b_box.get("err"), WalError) and "is full" in str(b_box["err"])
    assert not first.undone and b"0" * 16 in [r.digest for r in log.head(10**6)]
    hooked.hook = None
    log.close()
    assert b"0" * 16 in [r.digest for r in Wal(tmp_path / "log", 10**9).head(10**6)]


def test_every_waiter_wakes_when_the_group_sync_fails_before_its_fsync(tmp_path, hooked):
    """The syncing request cannot even duplicate the file descriptor (too many open files): it and the requests
    waiting for its fsync are answered (503), none hangs, and none of their records reaches the writer.
    Before, the waiters slept until some later request synced."""
    log = Wal(tmp_path / "log", 10**9)
    _append(log, 0)
    hooked.hook = held = Held("A", "dup", errno.EMFILE)
    a, a_box = _started("A", lambda: _append(log, 1))
    assert held.entered.wait(10)
    waiters = [_started(f"W{i}", lambda i=i: _append(log, 10 + i)) for i in range(2)]
    for thread, _ in waiters:
        thread.join(0.3)
    held.release.set()
    for thread, _ in [(a, a_box), *waiters]:
        thread.join(10)
        assert not thread.is_alive()
    answered = [box for _, box in [(a, a_box), *waiters]]
    assert all("ok" in box or isinstance(box.get("err"), WalError) for box in answered), answered
    assert isinstance(a_box.get("err"), WalError)
    assert len(log.head(10**6)) == 1 + sum("ok" in box for box in answered)


def test_a_failed_fsync_of_a_segment_being_closed_takes_its_unsynced_records_out(tmp_path, hooked):
    """The fsync that closes a full segment fails: the records appended to it since its last fsync are answered
    503 and never reach the writer (before, the next group fsync acknowledged them)."""
    log = Wal(tmp_path / "log", 10**9, segment_bytes=900)  # three records a segment
    _append(log, 0)
    held = Held("X", error=None)  # a group fsync under way, that succeeds

    def hook(call: str, thread: str, path: Path | None) -> None:
        if call == "fsync" and thread == "B":  # the rotation's fsync of segment 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        held(call, thread, path)

    hooked.hook = hook
    x, x_box = _started("X", lambda: _append(log, 1))
    assert held.entered.wait(10)
    y, y_box = _started("Y", lambda: _append(log, 2))
    y.join(0.3)
    b, b_box = _started("B", lambda: _append(log, 3))  # segment 1 full: rotation, whose fsync fails
    b.join(10)
    hooked.hook = None
    held.release.set()
    x.join(10), y.join(10)
    assert isinstance(b_box.get("err"), WalError) and "could not write" in str(b_box["err"])
    for box in (x_box, y_box):
        assert isinstance(box.get("err"), WalError), box
    assert len(log.head(10**6)) == 1  # the first record only


def test_a_copy_of_a_request_still_being_stored_is_not_acknowledged(tmp_path, hooked):
    """A re-send arriving while the first copy is being made durable is refused (503: retry), not acknowledged as
    a duplicate: the first copy may still fail, and then the re-send is stored."""
    log = Wal(tmp_path / "log", 10**9)
    _append(log, 0)  # the segment is open: the next fsync is the group's
    digest = b"d" * 16
    hooked.hook = held = Held("first")
    assert log.claim(digest)
    first, first_box = _started("first", lambda: _append(log, 1, digest))
    assert held.entered.wait(10)
    with pytest.raises(WalError, match="still being stored"):
        log.claim(digest)
    held.release.set()
    first.join(10)
    assert isinstance(first_box.get("err"), WalError)  # answered 503
    assert log.claim(digest)  # the re-send is stored
    _append(log, 1, digest)
    assert not log.claim(digest)  # and from now on a duplicate
    assert [r.digest for r in log.head(10**6)] == [wal_module.NO_HASH, digest]


def test_the_dedup_index_is_written_whole_or_not_at_all(tmp_path, hooked):
    """A full disk cuts the dedup index's append short (10 bytes fit, then ENOSPC): the part written is cut back,
    so the hashes kept after it are read right after a restart (before, every later slot was shifted and
    re-sends were stored twice)."""
    log = Wal(tmp_path / "log", 10**9, segment_bytes=600)
    writes = []

    def hook(call: str, thread: str, path: Path | None) -> int | None:
        if call == "write" and path is not None and path.name == "dedup.idx" and len(writes) < 2:
            writes.append(path)
            if len(writes) == 1:
                return 10
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return None

    hooked.hook = hook
    records = [_append(log, i, bytes([65 + i]) * 16) for i in range(4)]  # two segments
    for r in records:
        log.begin([r]), log.mark_done([r])
    _append(log, 9)  # a new segment: the written ones are removed, their hashes kept
    assert len(writes) == 2 and (tmp_path / "log" / "dedup.idx").stat().st_size % 24 == 0
    log.close()
    again = Wal(tmp_path / "log", 10**9)
    # The segment whose hashes were refused had its warning; the other's hashes are recognised.
    assert sum(not again.claim(bytes([65 + i]) * 16) for i in range(4)) >= 2


def test_the_dedup_index_is_compacted_while_the_log_runs(tmp_path, monkeypatch):
    """Hashes past the window leave the dedup index while the log runs, not only when it opens (before, it grew
    by 24 bytes per request until the next start)."""
    monkeypatch.setattr(wal_module, "INDEX_COMPACT_BYTES", 24 * 20)
    log = Wal(tmp_path / "log", 10**9, segment_bytes=300, dedup_window_s=0.2)
    index = tmp_path / "log" / "dedup.idx"
    sizes = []
    for i in range(120):
        r = _append(log, i, i.to_bytes(16, "big"))
        log.begin([r]), log.mark_done([r])
        if i % 30 == 29:
            threading.Event().wait(0.25)  # the window passes
            sizes.append(index.stat().st_size if index.exists() else 0)
    assert max(sizes) < 24 * 60, sizes  # 120 requests written: 2,880 bytes without compaction
    log.close()
