"""A bounded on-disk spool of span batches waiting for the store.

When ClickHouse is unreachable or refuses inserts, batches are appended here
and fsynced before anyone is told they were accepted; a drainer writes them to
the store later, oldest first. Layout of the directory:

- ``seg-000000000001.log`` … append-only segment files of framed records:
  ``magic(4) | payload length(4) | crc32(4) | span count(4) | payload``, where
  the payload is zlib-compressed JSON ``{"id": batch id, "tried": bool, "columns": [...]}``
  (``tried``: a direct insert of the batch failed before it was spooled, so it may have landed).
  A torn record at the tail (crash in mid-append, never acknowledged) fails
  its length or CRC check and ends the segment.
- ``seg-….done`` the byte offset up to which a segment was written to the store.
  It is advanced after each insert; an insert repeated after a crash carries
  the same batch id as deduplication token, so the store keeps one copy.
- ``dropped.json`` batches and spans dropped because the spool was full.
- ``spool.lock`` an exclusive lock: one process owns a spool directory.

Past ``max_bytes`` the oldest segments are dropped, counted and logged, so a
long outage loses the oldest spans, never the newest, and never the disk.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAGIC = b"EXS1"
_HEADER = struct.Struct(">4sIII")
DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024


class SpoolError(RuntimeError):
    """The spool cannot take a batch (in use by another process, or a batch larger than its limit)."""


@dataclass
class Batch:
    """One spooled batch: where it is, its id (the deduplication token) and its columns."""

    seq: int
    offset: int
    end: int
    batch_id: str
    spans: int
    columns: list[list[Any]]
    tried: bool = False  # an insert of it was tried before it was spooled (it may have landed)


@dataclass
class _Segment:
    seq: int
    size: int = 0
    batches: int = 0
    spans: int = 0
    done_offset: int = 0
    done_batches: int = 0
    done_spans: int = 0


def encode_record(batch_id: str, columns: list[list[Any]], spans: int, tried: bool = False) -> bytes:
    payload = zlib.compress(json.dumps({"id": batch_id, "tried": tried, "columns": columns}, separators=(",", ":"),
                                       ensure_ascii=False).encode(), 1)
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), spans) + payload


def _read_header(f: Any) -> tuple[int, int, int] | None:
    """(payload length, crc, spans) of the record at the file position, or None at the (torn) end."""
    raw = f.read(_HEADER.size)
    if len(raw) < _HEADER.size:
        return None
    magic, length, crc, spans = _HEADER.unpack(raw)
    if magic != MAGIC:
        return None
    return length, crc, spans


def _scan(path: Path) -> _Segment:
    """A segment's size, batches and spans, and how much of it was written to the store."""
    seg = _Segment(int(path.stem[4:]))
    try:
        seg.done_offset = int(path.with_suffix(".done").read_text() or 0)
    except (OSError, ValueError):
        seg.done_offset = 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while True:
            header = _read_header(f)
            if header is None:
                break
            length, _crc, spans = header
            start = f.tell() - _HEADER.size
            f.seek(length, os.SEEK_CUR)
            if f.tell() > size:
                break
            seg.size = f.tell()
            seg.batches += 1
            seg.spans += spans
            if start < seg.done_offset:
                seg.done_batches += 1
                seg.done_spans += spans
    return seg


def _read_dropped(directory: Path) -> tuple[int, int]:
    try:
        data = json.loads((directory / "dropped.json").read_text())
        return int(data.get("batches", 0)), int(data.get("spans", 0))
    except (OSError, ValueError, AttributeError):
        return 0, 0


class Spool:
    """Append, read back in order, mark written; thread-safe; one process per directory."""

    def __init__(self, directory: str | Path, max_bytes: int, segment_bytes: int = DEFAULT_SEGMENT_BYTES):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = max(1, min(segment_bytes, max_bytes))
        self._lock = threading.RLock()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "spool.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolError(f"the spool directory {self.directory} is in use by another process") from None
        self._segments: dict[int, _Segment] = {}
        self._active: int | None = None
        self._active_file: Any = None
        self.dropped_batches, self.dropped_spans = _read_dropped(self.directory)
        for path in sorted(self.directory.glob("seg-*.log")):
            seg = _scan(path)
            if seg.done_offset >= seg.size:
                self._remove(seg.seq)
            else:
                self._segments[seg.seq] = seg
        self._next_seq = max(self._segments, default=0) + 1
        for path in self.directory.glob("seg-*.log"):  # numbers of removed segments are not reused
            self._next_seq = max(self._next_seq, int(path.stem[4:]) + 1)

    # --- files ---------------------------------------------------------------
    def _path(self, seq: int, suffix: str = ".log") -> Path:
        return self.directory / f"seg-{seq:012d}{suffix}"

    def _write_dropped(self) -> None:
        tmp = self.directory / "dropped.json.tmp"
        tmp.write_text(json.dumps({"batches": self.dropped_batches, "spans": self.dropped_spans}))
        os.replace(tmp, self.directory / "dropped.json")

    def _remove(self, seq: int) -> None:
        if seq == self._active and self._active_file is not None:
            self._active_file.close()
            self._active_file = None
            self._active = None
        self._segments.pop(seq, None)
        for suffix in (".log", ".done"):
            try:
                self._path(seq, suffix).unlink()
            except FileNotFoundError:
                pass

    # --- writing ---------------------------------------------------------------
    def append(self, batch_id: str, columns: list[list[Any]], spans: int, tried: bool = False) -> None:
        """Append one batch and fsync it; when this returns, the batch survives a crash."""
        record = encode_record(batch_id, columns, spans, tried)
        if len(record) > self.max_bytes:
            raise SpoolError(f"a batch of {len(record)} bytes does not fit the spool limit of {self.max_bytes} bytes")
        with self._lock:
            self._make_room(len(record))
            seg = self._segments.get(self._active) if self._active is not None else None
            if seg is None or seg.size + len(record) > self.segment_bytes:
                seg = self._open_segment()
            f = self._active_file
            f.seek(seg.size)
            f.write(record)
            f.flush()
            os.fsync(f.fileno())
            seg.size += len(record)
            seg.batches += 1
            seg.spans += spans

    def _open_segment(self) -> _Segment:
        if self._active_file is not None:
            self._active_file.close()
        seq = self._next_seq
        self._next_seq += 1
        path = self._path(seq)
        self._active_file = open(path, "wb")
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new file's name is durable too
        finally:
            os.close(dir_fd)
        self._active = seq
        seg = self._segments[seq] = _Segment(seq)
        return seg

    def _make_room(self, needed: int) -> None:
        while self._segments and self.size_bytes + needed > self.max_bytes:
            oldest = min(self._segments)
            seg = self._segments[oldest]
            if oldest == self._active and seg.size == 0:
                break
            lost_batches = seg.batches - seg.done_batches
            lost_spans = seg.spans - seg.done_spans
            self._remove(oldest)
            if lost_batches:
                self.dropped_batches += lost_batches
                self.dropped_spans += lost_spans
                self._write_dropped()
                log.error("spool full (%d bytes): dropped the oldest %d spans in %d batches "
                          "(%d spans dropped so far)", self.max_bytes, lost_spans, lost_batches, self.dropped_spans)

    # --- reading -----------------------------------------------------------------
    def next_batch(self) -> Batch | None:
        """The oldest batch not yet written to the store, or None when the spool is drained."""
        with self._lock:
            for seq in sorted(self._segments):
                seg = self._segments[seq]
                if seg.done_offset >= seg.size:
                    if seq != self._active:
                        self._remove(seq)
                    continue
                with open(self._path(seq), "rb") as f:
                    f.seek(seg.done_offset)
                    header = _read_header(f)
                    payload = f.read(header[0]) if header else b""
                if header is None or len(payload) != header[0] or zlib.crc32(payload) != header[1]:
                    log.error("spool segment %s is damaged at byte %d; skipping the rest of it",
                              self._path(seq).name, seg.done_offset)
                    self._remove(seq)
                    continue
                data = json.loads(zlib.decompress(payload))
                return Batch(seq, seg.done_offset, seg.done_offset + _HEADER.size + header[0], data["id"],
                             header[2], data["columns"], bool(data.get("tried")))
            return None

    def mark_written(self, batch: Batch) -> None:
        """Record that ``batch`` is in the store; a fully written segment is deleted."""
        with self._lock:
            seg = self._segments.get(batch.seq)
            if seg is None or seg.done_offset != batch.offset:
                return  # dropped (spool full) or already marked
            seg.done_offset = batch.end
            seg.done_batches += 1
            seg.done_spans += batch.spans
            if seg.done_offset >= seg.size:
                self._remove(batch.seq)
            else:
                tmp = self._path(batch.seq, ".done.tmp")
                tmp.write_text(str(seg.done_offset))
                os.replace(tmp, self._path(batch.seq, ".done"))

    # --- state -------------------------------------------------------------------
    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(s.size for s in self._segments.values())

    @property
    def pending_spans(self) -> int:
        with self._lock:
            return sum(s.spans - s.done_spans for s in self._segments.values())

    @property
    def pending_batches(self) -> int:
        with self._lock:
            return sum(s.batches - s.done_batches for s in self._segments.values())

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"directory": str(self.directory), "bytes": self.size_bytes, "max_bytes": self.max_bytes,
                    "pending_batches": self.pending_batches, "pending_spans": self.pending_spans,
                    "dropped_batches": self.dropped_batches, "dropped_spans": self.dropped_spans}

    def close(self) -> None:
        with self._lock:
            if self._active_file is not None:
                self._active_file.close()
                self._active_file = None
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None


def read_status(directory: str | Path, max_bytes: int) -> dict[str, Any]:
    """The status of a spool directory without taking it over (for ``execlog status``)."""
    directory = Path(directory)
    out: dict[str, Any] = {"directory": str(directory), "bytes": 0, "max_bytes": max_bytes, "pending_batches": 0,
                           "pending_spans": 0, "dropped_batches": 0, "dropped_spans": 0}
    if not directory.is_dir():
        return out
    out["dropped_batches"], out["dropped_spans"] = _read_dropped(directory)
    for path in sorted(directory.glob("seg-*.log")):
        try:
            seg = _scan(path)
        except OSError:
            continue
        out["bytes"] += seg.size
        out["pending_batches"] += seg.batches - seg.done_batches
        out["pending_spans"] += seg.spans - seg.done_spans
    return out
