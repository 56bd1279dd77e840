"""The write-ahead log: every accepted request is appended and fsynced here before it is acknowledged.

In the style of the OpenTelemetry Collector's persistent queue: the receiver (and the direct exporter)
append *records*, a background writer (``ingest.writer``) inserts them into ClickHouse in large batches
and marks them done. A record carries the table it is for, its column names and its rows, so any signal
(spans, logs, metrics) goes through the same log.

Layout of the directory:

- ``seg-000000000001.wal`` … append-only segments of records::

      magic(4) | payload length(4) | rows(4) | accepted ns(8) | request hash(16) | payload crc32(4) | header crc32(4)
      payload: a trace request as it arrived, with its acceptance (``ingest.acceptance``: its rows are built
               by the log's converter, off the acknowledgement's path); the spans' Arrow stream
               (``store.span_arrow``) after the prefix ``ARROW``; or for any other table (and spans Arrow
               cannot take) JSON {"table": ..., "names": [...], "cols": [[...], ...]}

  The header has its own checksum, so a damaged length never misleads the reader: after a damaged
  header, recovery searches for the next valid header (the magic is the resynchronisation marker) and
  skips only the damaged bytes; a record whose payload fails its checksum is skipped alone (its row count
  is known from the header). Each loss is logged with its byte range and counted.
- ``state.json`` the position up to which records are in the store, and the end of the batch being
  inserted (*in flight*: after a crash those rows are checked against the store before being written again).
- ``dedup.idx`` hashes of recently accepted requests (16 bytes + accepted ns each) whose segments are gone:
  with the hashes still in segment headers, a request re-sent within ``dedup_window_s`` is recognised.
- ``dropped.json`` rows dropped because the log was full; ``dead-letter.jsonl`` rows the store refused
  (``ingest.dead_letter``); ``wal.lock`` an exclusive lock (one process owns a log directory).

Past ``max_bytes`` the oldest segments are dropped, counted and logged, so a long outage loses the oldest
rows, never the newest, and never the disk. Any other file in the directory is ignored with a warning.

A full disk refuses the request (``WalError``: the receiver answers 503), never the log's own progress: a
record is written whole or cut off again; a failed fsync takes the records it did not make durable back out
(their requests get 503 and their hashes are forgotten, so the re-sends are stored); the state is rewritten in
place when there is no room for a new file, and a written segment is deleted before its hashes are kept, so
the writer can always mark what it wrote and free the space.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from execlog_otel.ingest import acceptance
from execlog_otel.store import span_arrow
from execlog_otel.store.rows import COLUMNS

log = logging.getLogger(__name__)

MAGIC = b"\xabEXW"
_HEAD = struct.Struct(">4sIIQ16sI")  # magic, payload length, rows, accepted ns, request hash, payload crc
HEADER_SIZE = _HEAD.size + 4  # + crc32 of the fields above
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
DEFAULT_DEDUP_WINDOW_S = 900.0
NO_HASH = bytes(16)
_SEGMENT = re.compile(r"seg-(\d{12})\.wal")
# An earlier version's spool (moved into the log at start), and exporters' logs under a server's.
_LEGACY = re.compile(r"seg-\d{12}\.(log|done)|spool\.lock|exporter(-\d+)?")
KNOWN_FILES = {"state.json", "dedup.idx", "dropped.json", "wal.lock", "dead-letter.jsonl", "requeue.request"}
_IDX = struct.Struct(">16sQ")
ARROW = b"\x00arrow\n"  # payload prefix of spans kept as an Arrow stream (a JSON payload starts with "{")
# Rows of a record: column lists, or for spans an Arrow table read from the payload without copying.
Columns = list[list[Any]] | pa.Table
# A trace request's payload -> (table, names, columns): builds its rows (``acceptance.Converter``).
Convert = Callable[[bytes | memoryview], tuple[str, list[str], Columns]]
# Tables a record may name (each signal's table); a record naming another one is damaged, not retried forever.
SPANS = "otel_traces"
SIGNAL_TABLES: set[str] = {SPANS, "otel_logs", "otel_metrics_gauge", "otel_metrics_sum",
                            "otel_metrics_histogram", "otel_metrics_exponential_histogram", "otel_metrics_summary"}


# The dedup index is compacted while the log runs once it is larger than this (24 bytes per request written).
INDEX_COMPACT_BYTES = 1 << 20


class WalError(RuntimeError):
    """The log cannot take a record (in use by another process, larger than its limit, or its disk is full)."""


# A full disk (or quota): the log frees space as the writer empties it, so the client is told to retry.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_STATE_BYTES = 128  # state.json's length, whatever it says (JSON ignores the trailing spaces)


class DamagedRecord(ValueError):
    """A record that cannot be read back as written (checksum, encoding or shape)."""


@dataclass(eq=False)
class Record:
    """One appended record: where it is, how many rows, when it was accepted; its data while it is cached."""

    seq: int
    offset: int
    end: int
    rows: int
    accepted_ns: int
    digest: bytes
    data: tuple[str, list[str], Columns] | None = None
    request: bytes | None = None  # a cached trace request's payload whose rows are not built yet
    maybe_landed: bool = False  # in the batch in flight when the process stopped: check the store first
    ticket: int = 0  # its append's number: durable once the log's group fsync has reached it
    undone: bool = False  # its fsync failed: taken out of the log again, its request answered 503


@dataclass
class _Segment:
    seq: int
    size: int = 0
    pending: int = 0
    digests: list[tuple[bytes, int]] = field(default_factory=list)


def encode_payload(table: str, names: list[str], columns: Columns) -> bytes:
    if table == SPANS and names == COLUMNS:
        if isinstance(columns, pa.Table):
            return ARROW + span_arrow.join([columns])
        try:
            return ARROW + span_arrow.encode(columns)
        except (ValueError, TypeError, OverflowError, UnicodeError):
            pass  # values Arrow cannot take: kept as JSON, so the writer isolates the rows the store refuses
    data = {"table": table, "names": names, "cols": columns}
    try:
        return orjson.dumps(data)
    except TypeError:
        # Text orjson refuses (lone surrogates from SDK spans): escaped JSON keeps it; the store decides.
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode()


def _built(payload: bytes, rows: int, convert: Convert | None) -> tuple[str, list[str], Columns]:
    """The rows of a trace request's payload (``acceptance.payload``)."""
    if convert is None:
        raise DamagedRecord("a trace request, which only a server's log can read back")
    try:
        table, names, cols = convert(payload)
    except ValueError as exc:
        raise DamagedRecord(str(exc)) from None
    if (n := cols.num_rows if isinstance(cols, pa.Table) else len(cols[0])) != rows:
        raise DamagedRecord(f"the request has {n} spans to store, not {rows}")
    return table, names, cols


def _arrow(payload: bytes, rows: int) -> tuple[str, list[str], Columns]:
    """The spans of an Arrow payload, over its bytes."""
    try:
        table = span_arrow.read(memoryview(payload)[len(ARROW):])
    except ValueError as exc:
        raise DamagedRecord(f"payload is not the log's encoding: {exc}") from None
    if table.num_rows != rows:
        raise DamagedRecord(f"payload has {table.num_rows} rows, not {rows}")
    return SPANS, list(COLUMNS), table


def decode_payload(payload: bytes, rows: int, convert: Convert | None = None) -> tuple[str, list[str], Columns]:
    if payload.startswith(acceptance.PREFIX):
        return _built(payload, rows, convert)
    if payload.startswith(ARROW):
        return _arrow(payload, rows)
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DamagedRecord(f"payload is not the log's encoding: {exc}") from None
    if not isinstance(data, dict):
        raise DamagedRecord("payload is not the log's encoding: not an object")
    table, names, cols = data.get("table"), data.get("names"), data.get("cols")
    if not isinstance(table, str) or not isinstance(names, list) or not isinstance(cols, list):
        raise DamagedRecord("payload lacks its table, column names or columns")
    if table not in SIGNAL_TABLES:
        raise DamagedRecord(f"payload names an unknown table {table[:100]!r}")
    if len(names) != len(cols) or any(not isinstance(c, list) or len(c) != rows for c in cols):
        raise DamagedRecord(f"payload has {len(cols)} columns for {len(names)} names, or not {rows} rows each")
    return table, names, cols


def encode_record(payload: bytes, rows: int, accepted_ns: int, digest: bytes) -> bytes:
    head = _HEAD.pack(MAGIC, len(payload), rows, accepted_ns, digest, zlib.crc32(payload))
    return head + struct.pack(">I", zlib.crc32(head)) + payload


def _parse_header(buf: bytes | memoryview, pos: int, size: int) -> tuple[int, int, int, bytes, int] | None:
    """(payload length, rows, accepted ns, digest, payload crc) of a valid header at ``pos``, else None."""
    if pos + HEADER_SIZE > size:
        return None
    head = bytes(buf[pos:pos + _HEAD.size])
    magic, length, rows, accepted, digest, crc = _HEAD.unpack(head)
    if magic != MAGIC or struct.unpack(">I", buf[pos + _HEAD.size:pos + HEADER_SIZE])[0] != zlib.crc32(head):
        return None
    if pos + HEADER_SIZE + length > size:
        return None
    return length, rows, accepted, digest, crc


@dataclass
class ScanResult:
    records: list[Record]
    losses: list[tuple[int, int]]  # damaged byte ranges skipped
    torn_tail: tuple[int, int] | None = None  # incomplete record at the end (a crash during its append)


def scan_segment(path: Path, seq: int) -> ScanResult:
    """Every record with a valid header, resynchronising after damaged bytes on the next valid header."""
    data = path.read_bytes()
    size = len(data)
    out = ScanResult([], [])
    pos = 0
    while pos < size:
        header = _parse_header(data, pos, size)
        if header is not None:
            length, rows, accepted, digest, _crc = header
            end = pos + HEADER_SIZE + length
            out.records.append(Record(seq, pos, end, rows, accepted, digest))
            pos = end
            continue
        nxt = data.find(MAGIC, pos + 1)
        while nxt >= 0 and _parse_header(data, nxt, size) is None:
            nxt = data.find(MAGIC, nxt + 1)
        if nxt < 0:
            out.torn_tail = (pos, size)
            break
        out.losses.append((pos, nxt))
        pos = nxt
    return out


def _write_file(path: Path, data: bytes, mode: int, sync: bool) -> None:
    """Write ``data`` to ``path`` (``mode``: os.O_TRUNC to replace its content, os.O_APPEND to add, 0 to write
    over its start), by the calls a full disk answers (``os.write``: what fits, then ENOSPC)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_dropped(directory: Path) -> tuple[int, int]:
    try:
        data = json.loads((directory / "dropped.json").read_text())
        return int(data.get("records", data.get("batches", 0))), int(data.get("rows", data.get("spans", 0)))
    except (OSError, ValueError, AttributeError):
        return 0, 0


class Wal:
    """Append with group fsync, read back in order, mark done; thread-safe; one process per directory."""

    def __init__(self, directory: str | Path, max_bytes: int, segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S, cache_rows: int = 100_000,
                 convert: Convert | None = None):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = max(1, min(segment_bytes, max_bytes))
        self.dedup_window_ns = int(dedup_window_s * 1e9)
        self.cache_rows = cache_rows  # rows kept decoded in memory for the writer; past it, read back from disk
        self._convert = convert  # builds the rows of trace requests (a server's log; see append_request)
        self._convert_lock = threading.Lock()  # one conversion of a record at a time (converter or writer)
        self._lock = threading.RLock()
        self._sync_cond = threading.Condition(threading.Lock())
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "wal.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise WalError(f"the log directory {self.directory} is in use by another process") from None
        self._segments: dict[int, _Segment] = {}
        self._pending: deque[Record] = deque()
        self._unbuilt: deque[Record] = deque()  # cached trace requests for the converter, oldest first
        self._pending_rows = 0
        self._cached_rows = 0
        self._active: _Segment | None = None
        self._fd = -1  # the active segment, opened for appending
        self._appended = 0  # appends written (the group fsync's ticket numbers)
        self._synced = 0
        self._durable_size = 0  # the active segment's size at its last fsync
        self._index_compacted_ns = 0  # when the dedup index was last compacted
        self._syncing = False
        self._seen: dict[bytes, int] = {}  # request hash -> accepted ns, oldest first
        self._claimed: set[bytes] = set()  # hashes of requests being appended right now
        self.dropped_records, self.dropped_rows = read_dropped(self.directory)
        self.damaged_records = 0  # damaged records or byte ranges skipped since start
        self.lost_rows = 0  # rows of damaged records (when their header told)
        self.duplicates = 0  # re-sent requests recognised and not stored again
        self.done_rows = 0
        self._recover()

    # --- recovery ----------------------------------------------------------------
    def _recover(self) -> None:
        state = self._read_state()
        self._warn_unknown_files()
        seqs = sorted(int(m.group(1)) for e in os.listdir(self.directory) if (m := _SEGMENT.fullmatch(e)))
        done = state.get("done", (0, 0))
        self._next_seq = (max(seqs) + 1) if seqs else max(done[0] + 1, 1)
        self._load_dedup_index()
        for seq in seqs:
            self._recover_segment(seq, newest=seq == seqs[-1], done=done, inflight=state.get("inflight"))
        for seq in [s for s, seg in self._segments.items() if not seg.pending]:
            self._remove(seq)
        if self._pending:
            log.warning("the log %s holds %d rows from before; writing them to the store", self.directory,
                        self._pending_rows)

    def _warn_unknown_files(self) -> None:
        for entry in sorted(os.listdir(self.directory)):
            if (not _SEGMENT.fullmatch(entry) and not _LEGACY.fullmatch(entry) and entry not in KNOWN_FILES
                    and not entry.endswith(".tmp")):
                log.warning("ignoring %s in the log directory %s: not a file of the log", entry, self.directory)

    def _scan_logged(self, seq: int, newest: bool) -> ScanResult | None:
        """A segment's records; damaged byte ranges are logged and counted (a torn tail of the newest is not:
        it was never acknowledged)."""
        path = self._path(seq)
        try:
            scan = scan_segment(path, seq)
        except OSError as exc:
            log.error("cannot read log segment %s (%s); skipping it", path.name, exc)
            self.damaged_records += 1
            return None
        for start, end in scan.losses:
            self.damaged_records += 1
            log.error("log segment %s is damaged at bytes %d-%d: skipped those bytes (the rows of the damaged "
                      "record are lost, count unknown); resumed at the next intact record", path.name, start, end)
        if scan.torn_tail is not None:
            start, end = scan.torn_tail
            if newest:
                log.warning("log segment %s ends with an incomplete record (bytes %d-%d): a crash during its "
                            "append, before it was acknowledged; ignored", path.name, start, end)
            else:
                self.damaged_records += 1
                log.error("log segment %s is damaged at bytes %d-%d (to its end): skipped", path.name, start, end)
        return scan

    def _recover_segment(self, seq: int, newest: bool, done: tuple[int, int],
                         inflight: tuple[int, int] | None) -> None:
        scan = self._scan_logged(seq, newest)
        if scan is None:
            return
        seg = _Segment(seq, size=scan.records[-1].end if scan.records else 0)
        done_seq, done_off = done
        if seq == done_seq and done_off not in {0} | {r.end for r in scan.records}:
            log.warning("the log's done position (segment %d, byte %d) is not a record boundary; the segment's "
                        "rows are checked against the store before they are written", seq, done_off)
            done_off = -1
        for rec in scan.records:
            seg.digests.append((rec.digest, rec.accepted_ns))
            if rec.digest != NO_HASH:
                self._seen[rec.digest] = rec.accepted_ns
            if seq < done_seq or (seq == done_seq and 0 <= done_off and rec.end <= done_off):
                continue
            rec.maybe_landed = (seq == done_seq and done_off < 0) or bool(inflight and (seq, rec.end) <= inflight)
            self._pending.append(rec)
            self._pending_rows += rec.rows
            seg.pending += 1
        self._segments[seq] = seg

    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.directory / "state.json").read_text())
            done = data.get("done") or [0, 0]
            out: dict[str, Any] = {"done": (int(done[0]), int(done[1]))}
            if data.get("inflight"):
                out["inflight"] = (int(data["inflight"][0]), int(data["inflight"][1]))
            return out
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
            # Without a trustworthy done position every record is checked against the store before it is written.
            log.warning("the log's state.json is unreadable (%s); every row in the log is checked against the store",
                        exc)
            return {"done": (0, 0), "inflight": (2**62, 0)}

    def _write_state(self, inflight: tuple[int, int] | None, sync: bool) -> None:
        with self._lock:
            head = self._pending[0] if self._pending else None
            done = (head.seq, head.offset) if head is not None else (
                (self._active.seq, self._active.size) if self._active is not None else (self._next_seq - 1, 0))
        # Padded to one length: rewritten in place, it never grows (see below).
        text = json.dumps({"done": list(done), "inflight": list(inflight) if inflight else None}).encode()
        text = text.ljust(_STATE_BYTES)
        path, tmp = self.directory / "state.json", self.directory / "state.json.tmp"
        try:
            _write_file(tmp, text, os.O_TRUNC, sync)
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno not in _NO_SPACE or not path.exists():
                raise
            # The disk is full: a new file needs room, rewriting the one there does not. Without this the
            # writer could neither note a batch nor mark it done, so the log would never shrink.
            tmp.unlink(missing_ok=True)
            _write_file(path, text, 0, sync=True)

    def _load_dedup_index(self) -> None:
        for digest, ns in self._compact_dedup_index():
            self._seen[digest] = ns

    def _compact_dedup_index(self) -> list[tuple[bytes, int]]:
        """Rewrite the dedup index with only the hashes still within the window (at open, and while running once
        it passes INDEX_COMPACT_BYTES, at most once per window); the entries kept. On a full disk it stays."""
        path = self.directory / "dedup.idx"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        horizon = time.time_ns() - self.dedup_window_ns
        kept = [(digest, ns) for digest, ns in _IDX.iter_unpack(raw[:len(raw) - len(raw) % _IDX.size])
                if ns >= horizon]
        data = b"".join(_IDX.pack(digest, ns) for digest, ns in kept)
        tmp = path.with_suffix(".idx.tmp")
        try:
            _write_file(tmp, data, os.O_TRUNC, sync=False)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("could not compact the log's dedup index %s (%s)", path, exc)
        self._index_compacted_ns = time.time_ns()
        return kept

    # --- files ---------------------------------------------------------------------
    def _path(self, seq: int) -> Path:
        return self.directory / f"seg-{seq:012d}.wal"

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _remove(self, seq: int) -> None:
        """Delete a segment; its request hashes move to the dedup index first (re-sends stay recognised)."""
        seg = self._segments.pop(seq, None)
        if self._active is not None and self._active.seq == seq:
            self._close_active()
        entries = b""
        if seg is not None and seg.digests:
            horizon = time.time_ns() - self.dedup_window_ns
            entries = b"".join(_IDX.pack(d, ns) for d, ns in seg.digests if d != NO_HASH and ns >= horizon)
        if entries:
            try:
                self._append_index(entries)
                entries = b""
            except OSError as exc:
                if exc.errno not in _NO_SPACE:
                    raise
                # The disk is full: the segment goes first (the room it frees takes the hashes after it).
        try:
            self._path(seq).unlink()
        except FileNotFoundError:
            pass
        if entries:
            try:
                self._append_index(entries)
            except OSError as exc:
                log.warning("could not keep the request hashes of a written segment (%s): a request re-sent "
                            "within %d s of its first answer may be stored twice", exc, self.dedup_window_ns // 10**9)

    def _append_index(self, entries: bytes) -> None:
        """Add hashes to the dedup index whole or not at all (it is read in fixed slots: a partial write left
        there would shift every later entry)."""
        path = self.directory / "dedup.idx"
        try:
            before = path.stat().st_size
        except FileNotFoundError:
            before = 0
        try:
            _write_file(path, entries, os.O_APPEND, sync=True)
        except OSError:
            with contextlib.suppress(OSError):
                os.truncate(path, before)
            raise
        stale = time.time_ns() - self._index_compacted_ns > self.dedup_window_ns
        if before + len(entries) > INDEX_COMPACT_BYTES and stale:
            self._compact_dedup_index()

    def _write_dropped(self) -> None:
        tmp = self.directory / "dropped.json.tmp"
        _write_file(tmp, json.dumps({"records": self.dropped_records, "rows": self.dropped_rows}).encode(),
                    os.O_TRUNC, sync=False)
        os.replace(tmp, self.directory / "dropped.json")

    # --- request hashes (exactly once across re-sends) ---------------------------------
    def claim(self, digest: bytes) -> bool:
        """True when no request with this hash was accepted within the window (the caller appends it);
        False for a re-send of one made durable, which is acknowledged without being stored again. A copy
        arriving while an earlier one is still being decoded or made durable raises WalError (the earlier one
        may yet fail: acknowledging the copy then would lose the request)."""
        with self._lock:
            if digest in self._seen:
                self.duplicates += 1
                return False
            if digest in self._claimed:
                raise WalError("an earlier copy of this request is still being stored: retry in a moment")
            self._claimed.add(digest)
            return True

    def release(self, digest: bytes) -> None:
        """Give up a claim (the request was not appended)."""
        with self._lock:
            self._claimed.discard(digest)

    def _prune_seen(self, now_ns: int) -> None:
        horizon = now_ns - self.dedup_window_ns
        seen = self._seen
        while seen:
            first = next(iter(seen))
            if seen[first] >= horizon:
                break
            del seen[first]

    # --- writing ---------------------------------------------------------------------
    def append(self, table: str, names: list[str], columns: Columns, rows: int,
               digest: bytes = NO_HASH) -> Record:
        """Append one record and fsync it (with concurrent appenders: one fsync for the group).
        When this returns, the record survives a crash."""
        payload = encode_payload(table, names, columns)
        # Kept for the writer: spans as the Arrow table over the payload's bytes (no copy, no list objects).
        data = decode_payload(payload, rows) if payload.startswith(ARROW) else (table, names, columns)
        return self._append(payload, rows, digest, data, None)

    def append_request(self, accepted: acceptance.Acceptance, body: bytes, rows: int,
                       digest: bytes = NO_HASH) -> Record:
        """Append a protobuf trace request as it arrived (``rows``: the spans ``acceptance.check`` kept) and
        fsync it; its rows are built by ``convert_next`` (the writer's converter) or when it is read."""
        payload = acceptance.payload(accepted, body)
        return self._append(payload, rows, digest, None, payload)

    def append_payload(self, payload: bytes, rows: int, digest: bytes = NO_HASH) -> Record:
        """Append a payload read from another log (``read_payload``) as it is."""
        if payload.startswith(acceptance.PREFIX):
            return self._append(payload, rows, digest, None, payload)
        return self._append(payload, rows, digest, decode_payload(payload, rows), None)

    def _append(self, payload: bytes, rows: int, digest: bytes, data: tuple[str, list[str], Columns] | None,
                request: bytes | None) -> Record:
        now = time.time_ns()
        record = encode_record(payload, rows, now, digest)
        if len(record) > self.max_bytes:
            self.release(digest)
            raise WalError(f"a record of {len(record)} bytes does not fit the log limit of {self.max_bytes} bytes "
                           "(EXECLOG_SPOOL_MAX_BYTES)")
        with self._lock:
            try:
                seg = self._write_record(record)
            except OSError as exc:
                self._claimed.discard(digest)
                if exc.errno in _NO_SPACE:
                    raise WalError(f"the disk of the log {self.directory} is full: the rows were not accepted; "
                                   "retry (the log frees space as it is written to the store), or give it room "
                                   "(EXECLOG_SPOOL_DIR, EXECLOG_SPOOL_MAX_BYTES)") from exc
                raise WalError(f"the log {self.directory} could not write the rows ({exc}): they were not "
                               "accepted; retry, and check the disk of the log (EXECLOG_SPOOL_DIR)") from exc
            rec = Record(seg.seq, seg.size, seg.size + len(record), rows, now, digest)
            seg.size = rec.end
            seg.pending += 1
            seg.digests.append((digest, now))
            if self._cached_rows + rows <= self.cache_rows:
                rec.data, rec.request = data, request
                self._cached_rows += rows
                if request is not None:
                    self._unbuilt.append(rec)
            self._pending.append(rec)
            self._pending_rows += rows
            self._appended += 1
            rec.ticket = ticket = self._appended
        try:
            self._sync(ticket)
        finally:
            with self._lock:
                self._claimed.discard(digest)
                if digest != NO_HASH and not rec.undone:  # a re-send is a duplicate from now on, not before
                    self._seen[digest] = now
                    self._prune_seen(now)
        if rec.undone:
            raise WalError(f"the log {self.directory} could not make the rows durable (its fsync failed): they "
                           "were not accepted; retry")
        return rec

    def _write_record(self, record: bytes) -> _Segment:
        """Write a whole record at the end of the active segment (a new one when it is full), or nothing: a write
        that fails midway is cut off again, so the next record starts where this one would have. When the disk is
        full and the active segment is all written to the store, it is dropped for a new one and the write tried
        once more (the writer removes the other segments as it empties them; this one only when it is full)."""
        self._make_room(len(record))
        seg = self._active
        if seg is None or (seg.size and seg.size + len(record) > self.segment_bytes):
            seg = self._open_segment()
        try:
            self._write_at(seg, record)
        except OSError as exc:
            if exc.errno not in _NO_SPACE or seg.pending or not seg.size:
                raise
            seg = self._open_segment()  # removes the written one, freeing its room
            self._write_at(seg, record)
        return seg

    def _write_at(self, seg: _Segment, record: bytes) -> None:
        view = memoryview(record)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError:
            self._cut(seg, seg.size)
            raise

    def _cut(self, seg: _Segment, size: int) -> None:
        """Cut the active segment back to ``size`` bytes (it is opened to append: the next record goes there).
        When even that fails, the tail stays (recovery skips its bytes) and the segment takes nothing more."""
        seg.size = size
        try:
            os.ftruncate(self._fd, size)
        except OSError:
            self._close_active()

    def _close_active(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._active = -1, None

    def _sync(self, ticket: int) -> None:
        """Group fsync: the first waiter syncs everything written so far; the others wait for it."""
        with self._sync_cond:
            while self._synced < ticket:
                if self._syncing:
                    self._sync_cond.wait()
                    continue
                self._syncing = True
                self._sync_cond.release()
                settled = None
                try:
                    settled = self._sync_once()
                finally:  # whatever happened, the waiters wake (one of them syncs next)
                    self._sync_cond.acquire()
                    self._syncing = False
                    if settled is not None:
                        self._synced = max(self._synced, settled)
                    self._sync_cond.notify_all()

    def _sync_once(self) -> int:
        """fsync the active segment; the appends it settled. When it fails, the records of the segment past its
        last fsync are taken out of the log (their requests get 503: ``undone``) and the segment cut back."""
        failed: OSError | None = None
        with self._lock:
            settled, seg = self._appended, self._active
            size = seg.size if seg is not None else 0
            try:
                fd = os.dup(self._fd) if self._fd >= 0 else -1
            except OSError as exc:  # e.g. too many open files: as good as a failed fsync
                fd, failed = -1, exc
        if fd >= 0:
            try:
                os.fsync(fd)
            except OSError as exc:
                failed = exc
            finally:
                os.close(fd)
        with self._lock:
            if seg is None or seg is not self._active:
                # Rotated meanwhile: _open_segment fsynced it (or, failing, took its unsynced records out).
                return settled
            if failed is None:
                self._durable_size = max(self._durable_size, min(size, seg.size))
            else:
                log.error("the log %s could not fsync (%s): the requests since the last fsync are answered 503 "
                          "and taken out of the log", self.directory, failed)
                self._undo_unsynced(seg)
        return settled

    def _undo_unsynced(self, seg: _Segment) -> None:
        """Take the records of the active segment ``seg`` past its size at the last fsync out of the log after a
        failed fsync: their requests get 503 (the client sends them again) and the segment is cut back (every
        record after them is in it too: it is still the active one)."""
        with self._lock:
            durable = self._durable_size
            undone = 0
            while (self._pending and self._pending[-1].seq == seg.seq
                   and self._pending[-1].offset >= durable):
                undone += 1
                rec = self._pending.pop()
                rec.undone = True
                self._forget(rec)
                seg.pending -= 1
                if rec in self._unbuilt:
                    self._unbuilt.remove(rec)
            del seg.digests[len(seg.digests) - undone:]  # theirs: the last ones appended
            self._cut(seg, durable)

    def _open_segment(self) -> _Segment:
        old = self._active
        if self._fd >= 0:
            try:
                os.fsync(self._fd)  # what was appended to the old segment is durable before it closes
            except OSError:
                if old is not None:  # a failed fsync: its unsynced records out, the segment stays active
                    self._undo_unsynced(old)
                raise
            self._close_active()
        if old is not None and not old.pending:
            self._remove(old.seq)
        seq = self._next_seq
        self._next_seq += 1
        # Unbuffered, each write at the end: a record is in the file (or cut off again) when its append returns.
        self._fd = os.open(self._path(seq), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._durable_size = 0
        self._fsync_dir()  # the new file's name is durable too
        seg = self._segments[seq] = _Segment(seq)
        self._active = seg
        return seg

    def _make_room(self, needed: int) -> None:
        while self._segments and self.size_bytes + needed > self.max_bytes:
            oldest = min(self._segments)
            seg = self._segments[oldest]
            if self._active is not None and oldest == self._active.seq:
                if seg.size == 0:
                    break
                self._open_segment()  # the full active segment is the oldest: close it, then drop it
            lost = [r for r in self._pending if r.seq == oldest]
            if lost:
                rows = sum(r.rows for r in lost)
                for r in lost:
                    self._pending.remove(r)
                    self._forget(r)
                self.dropped_records += len(lost)
                self.dropped_rows += rows
                self._write_dropped()
                log.error("log full (%d bytes): dropped the oldest %d rows in %d records (%d rows dropped so far)",
                          self.max_bytes, rows, len(lost), self.dropped_rows)
            self._remove(oldest)

    def _forget(self, rec: Record) -> None:
        self._pending_rows -= rec.rows
        if rec.data is not None or rec.request is not None:
            self._cached_rows -= rec.rows
            rec.data = rec.request = None

    # --- reading ---------------------------------------------------------------------
    def head(self, max_rows: int) -> list[Record]:
        """The oldest pending records, up to ``max_rows`` rows (at least one record)."""
        with self._lock:
            out, rows = [], 0
            for rec in self._pending:
                if rec.ticket > self._synced or (out and rows + rec.rows > max_rows):
                    break  # not durable yet (its fsync may still fail), or the batch is full
                out.append(rec)
                rows += rec.rows
            return out

    def read(self, rec: Record) -> tuple[str, list[str], Columns]:
        """(table, column names, columns) of a record; DamagedRecord when it cannot be read back."""
        if rec.data is not None:
            return rec.data
        if rec.request is not None:
            with self._convert_lock:
                # Taken once: the other thread may have built it meanwhile, or the log dropped it (``_forget``).
                data, request = rec.data, rec.request
                if data is None and request is not None:
                    data = decode_payload(request, rec.rows, self._convert)
                    with self._lock:
                        if rec.request is not None:  # still cached: keep what was built
                            rec.data, rec.request = data, None
                if data is not None:
                    return data
        return decode_payload(self.read_payload(rec), rec.rows, self._convert)

    def wait_durable(self, timeout_s: float = 1.0) -> None:
        """Wait until the oldest pending record is durable (``head`` leaves out records whose fsync is running)."""
        with self._lock:
            ticket = self._pending[0].ticket if self._pending else 0
        with self._sync_cond:
            self._sync_cond.wait_for(lambda: self._synced >= ticket, timeout_s)

    @property
    def builds_requests(self) -> bool:
        """Whether this log can keep trace requests as they arrived (it was given their conversion)."""
        return self._convert is not None

    def convert_next(self) -> bool:
        """Build the rows of the oldest cached trace request whose rows are not built yet; False when none is
        left. The writer's converter calls this as requests arrive, so a batch is ready when it is due."""
        with self._lock:
            while self._unbuilt and self._unbuilt[0].request is None:  # built by the writer, done or dropped
                self._unbuilt.popleft()
            if not self._unbuilt:
                return False
            rec = self._unbuilt.popleft()
        try:
            self.read(rec)
        except DamagedRecord:
            pass  # not tried again here: the writer meets it, and counts the loss
        return True

    def read_payload(self, rec: Record) -> bytes:
        """A record's payload as written; DamagedRecord when it cannot be read back."""
        try:
            with open(self._path(rec.seq), "rb") as f:
                f.seek(rec.offset)
                raw = f.read(rec.end - rec.offset)
        except OSError as exc:
            raise DamagedRecord(f"cannot read it: {exc}") from None
        header = _parse_header(raw, 0, len(raw))
        if header is None or len(raw) != rec.end - rec.offset:
            raise DamagedRecord("its header no longer checks out")
        payload = raw[HEADER_SIZE:]
        if zlib.crc32(payload) != header[4]:
            raise DamagedRecord("its payload fails the checksum")
        return payload

    def begin(self, records: list[Record]) -> None:
        """Note (durably) that these records are being inserted: after a crash they are checked first."""
        if records:
            self._write_state((records[-1].seq, records[-1].end), sync=True)

    def mark_done(self, records: list[Record]) -> None:
        """These records are in the store (or skipped); fully done segments are deleted."""
        with self._lock:
            for rec in records:
                if not self._pending or self._pending[0] is not rec:
                    continue  # dropped while it was being written (the log was full)
                self._pending.popleft()
                self._forget(rec)
                self.done_rows += rec.rows
                seg = self._segments.get(rec.seq)
                if seg is not None:
                    seg.pending -= 1
                    if not seg.pending and (self._active is None or seg.seq != self._active.seq):
                        self._remove(seg.seq)
        self._write_state(None, sync=False)

    # --- state -------------------------------------------------------------------------
    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(s.size for s in self._segments.values())

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    @property
    def pending_records(self) -> int:
        return len(self._pending)

    def oldest_pending_ns(self) -> int | None:
        with self._lock:
            return self._pending[0].accepted_ns if self._pending else None

    def status(self) -> dict[str, Any]:
        with self._lock:
            oldest = self.oldest_pending_ns()
            return {"directory": str(self.directory), "bytes": self.size_bytes, "max_bytes": self.max_bytes,
                    "pending_records": len(self._pending), "pending_spans": self._pending_rows,
                    "oldest_pending_age_s": round((time.time_ns() - oldest) / 1e9, 3) if oldest else 0.0,
                    "dropped_records": self.dropped_records, "dropped_spans": self.dropped_rows,
                    "damaged_records": self.damaged_records, "lost_spans": self.lost_rows,
                    "duplicate_requests": self.duplicates}

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                self._close_active()
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None


def read_status(directory: str | Path, max_bytes: int) -> dict[str, Any]:
    """The status of a log directory without taking it over (for ``execlog status``)."""
    directory = Path(directory)
    out: dict[str, Any] = {"directory": str(directory), "bytes": 0, "max_bytes": max_bytes, "pending_records": 0,
                           "pending_spans": 0, "oldest_pending_age_s": 0.0, "dropped_records": 0,
                           "dropped_spans": 0, "damaged_records": 0, "lost_spans": 0, "duplicate_requests": 0}
    if not directory.is_dir():
        return out
    out["dropped_records"], out["dropped_spans"] = read_dropped(directory)
    try:
        state = json.loads((directory / "state.json").read_text())
        done_seq, done_off = state.get("done") or (0, 0)
    except (OSError, ValueError, TypeError):
        done_seq, done_off = 0, 0
    oldest = None
    for entry in sorted(os.listdir(directory)):
        m = _SEGMENT.fullmatch(entry)
        if not m:
            continue
        seq = int(m.group(1))
        try:
            scan = scan_segment(directory / entry, seq)
        except OSError:
            continue
        out["bytes"] += scan.records[-1].end if scan.records else 0
        for rec in scan.records:
            if seq < done_seq or (seq == done_seq and rec.end <= done_off):
                continue
            out["pending_records"] += 1
            out["pending_spans"] += rec.rows
            oldest = rec.accepted_ns if oldest is None else min(oldest, rec.accepted_ns)
    if oldest:
        out["oldest_pending_age_s"] = round((time.time_ns() - oldest) / 1e9, 3)
    return out
