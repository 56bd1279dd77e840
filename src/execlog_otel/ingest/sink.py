"""Where accepted spans go: the write-ahead log (``ingest.wal``), drained by the log's writer.

``StoreSink.write`` returns once a request's rows are durable: appended and fsynced to the log (group
fsync across concurrent requests). The writer (``ingest.writer``) inserts them into ClickHouse in large
batches, in order, retrying outages and isolating rows the store refuses. ``write`` also takes the
request's content hash: a request re-sent within the log's window (its answer was lost) is acknowledged
without being stored twice. ``write_request`` keeps a protobuf trace request as it arrived (its rows are
built off the acknowledgement's path: ``ingest.acceptance``). ``append`` is the same path for any other
signal's table.

Without a log (an app or server handed a store in-process, e.g. tests; or ``EXECLOG_SPOOL_MAX_BYTES=0``)
each request is inserted before it is answered, and a store failure is answered 503 so the client retries.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from execlog_otel.ingest.acceptance import Acceptance
from execlog_otel.ingest.wal import NO_HASH, Wal
from execlog_otel.ingest.writer import DEFAULT_BATCH_ROWS, DEFAULT_LINGER_S, LogWriter, is_data_error
from execlog_otel.store.rows import COLUMNS, SpanColumns
from execlog_otel.store.store import SPAN_TABLE, Store

log = logging.getLogger(__name__)

# Settings of a plain insert. Each insert runs the materialized views' queries on its rows; their plan
# optimizations cost more than they save on one insert's rows (a 12,000-span insert: 0.38 s of CPU without
# them against 0.43 s, 211 -> 177 ms for 512 spans; every derived table identical, compared row by row), and
# so does compiling their expressions to machine code (ten inserts of 25,000 spans: 4.0-4.6 s of CPU without it
# against 4.8-5.4 s after the first three, 1.5-1.7 s against 1.9-2.1 s for those three).
DIRECT_INSERT: dict[str, Any] = {"insert_deduplicate": 0, "query_plan_enable_optimizations": 0,
                                 "compile_expressions": 0, "compile_aggregate_expressions": 0}


class SpanDataError(ValueError):
    """Spans that no store would take (the client should not retry them unchanged)."""


def request_hash(body: bytes) -> bytes:
    """The content hash identifying a request across re-sends."""
    return hashlib.blake2b(body, digest_size=16).digest()


def insert_settings(store_url: str, async_insert: bool) -> dict[str, Any]:
    """Insert settings of the writers: a ClickHouse server batches small inserts itself (async_insert,
    waiting for the flush so an acknowledged insert is stored); the embedded engine takes plain inserts."""
    if async_insert and store_url.startswith(("http://", "https://")):
        return {"async_insert": 1, "wait_for_async_insert": 1}
    return dict(DIRECT_INSERT)


class StoreSink:
    """Accepts rows durably (into the log) or, without a log, inserts them at once."""

    def __init__(self, store: Store | None, wal: Wal | None = None, *, connect: Callable[[], Store] | None = None,
                 settings: dict[str, Any] | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                 linger_s: float = DEFAULT_LINGER_S, retry_interval_s: float = 0.5):
        if store is None and (connect is None or wal is None):
            raise ValueError("a sink without a store needs a log and a way to connect")
        self._store = store
        self.wal = wal
        self.settings = dict(settings or DIRECT_INSERT)
        self._lock = threading.Lock()  # direct mode: one insert at a time (the embedded engine)
        self.spans_accepted = 0
        self.spans_direct = 0
        self.last_error = ""
        self.writer = (LogWriter(wal, store, connect=connect, insert_settings=self.settings, batch_rows=batch_rows,
                                 linger_s=linger_s, retry_interval_s=retry_interval_s)
                       if wal is not None else None)

    @property
    def store(self) -> Store | None:
        return self.writer.store if self.writer is not None else self._store

    # --- accepting -------------------------------------------------------------------
    def seen(self, digest: bytes) -> bool:
        """True for a re-sent request already accepted within the window (answer it without storing it);
        otherwise the hash is claimed until ``write`` or ``forget``. WalError while an earlier copy of it is still
        being stored (answer 503: it may yet fail)."""
        return self.wal is not None and not self.wal.claim(digest)

    def forget(self, digest: bytes) -> None:
        """Release the claim of a request that was not written (refused, or an error)."""
        if self.wal is not None:
            self.wal.release(digest)

    def write(self, columns: SpanColumns, digest: bytes = NO_HASH) -> None:
        """Return once the spans are durable; raise when that is not possible (the client retries)."""
        self.append(SPAN_TABLE, COLUMNS, columns.columns, len(columns), digest)

    @property
    def keeps_requests(self) -> bool:
        """True when trace requests are kept in the log as they arrived (``write_request``); without a log
        their rows are built and inserted before the answer (``write``), and into a log that cannot build them
        (no conversion given) before they are appended."""
        return self.wal is not None and self.wal.builds_requests

    def write_request(self, accepted: Acceptance, body: bytes, rows: int, digest: bytes = NO_HASH) -> None:
        """A protobuf trace request of ``rows`` spans to keep (``acceptance.check``), durable when this returns."""
        if not rows:
            self.forget(digest)
            return
        self._log(lambda: self.wal.append_request(accepted, body, rows, digest), rows, digest)

    def append(self, table: str, names: list[str], columns: list[list[Any]], rows: int,
               digest: bytes = NO_HASH) -> None:
        """Any signal's rows (``table`` must be in ``wal.SIGNAL_TABLES``), durable when this returns."""
        if not rows:
            self.forget(digest)
            return
        if self.wal is None:
            self._insert_now(table, names, columns, rows)
            return
        self._log(lambda: self.wal.append(table, names, columns, rows, digest), rows, digest)

    def _log(self, append: Callable[[], object], rows: int, digest: bytes) -> None:
        """Run ``append`` (a record into the log, fsynced) and wake the writer; the request's hash is released
        when it fails, so the client's retry is not taken for a re-send."""
        try:
            append()
        except BaseException:
            self.forget(digest)
            raise
        self.spans_accepted += rows
        self.writer.notify()

    def _insert_now(self, table: str, names: list[str], columns: list[list[Any]], rows: int) -> None:
        with self._lock:
            try:
                self._store.insert_columns(table, names, columns, settings=self.settings)
            except Exception as exc:
                if is_data_error(exc):
                    raise SpanDataError(f"the spans cannot be stored as sent: {exc}") from None
                self.last_error = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                raise
            self.spans_accepted += rows
            self.spans_direct += rows
            self.last_error = ""

    # --- waiting, status, closing ----------------------------------------------------------
    def flush(self, timeout_s: float = 30.0) -> bool:
        """Insert what the log holds now and wait for it (False on timeout or while the store fails)."""
        return self.writer.flush(timeout_s) if self.writer is not None else True

    def wait_drained(self, timeout_s: float) -> bool:
        """Block until the log is empty, retrying through failures (tests and shutdown); False on timeout."""
        return self.writer.wait_drained(timeout_s) if self.writer is not None else True

    def status(self) -> dict[str, Any]:
        if self.writer is None:
            return {"spans_accepted": self.spans_accepted, "spans_written": self.spans_direct,
                    "store_error": self.last_error, "insert_lag_s": 0.0, "dead_letter_spans": 0, "log": None}
        out = {"spans_accepted": self.spans_accepted, **self.writer.status()}
        out["log"] = self.wal.status()
        return out

    def close(self) -> None:
        """Write what is pending (briefly), stop the writer; what is left stays in the log for next time."""
        if self.writer is None:
            return
        self.writer.close()
        if self.wal.pending_rows:
            log.warning("%d spans stay in the log %s; they are written at the next start", self.wal.pending_rows,
                        self.wal.directory)
        self.wal.close()
