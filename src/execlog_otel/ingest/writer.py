"""The log's writer: a background thread inserting the write-ahead log into ClickHouse in large batches.

- **Batches.** An idle writer inserts what arrives at once; a busy one inserts at most about once per
  ``linger_s`` (sooner when ``batch_rows`` rows are pending, or at the end of a burst, at most once per
  ``EARLY_EVERY`` lingers), each insert carrying the oldest records of one table: few, large inserts under
  load, as ClickHouse recommends (a remainder under a quarter of a batch goes with the batch before it).
  Records are marked done only after their insert.
- **Outages keep the order.** A failure of the store (connection refused, disk full, too many parts, a
  missing table…) is retried with the same batch, with backoff, before anything later is written.
- **Nothing poisons the pipeline.** A batch the store refuses for data reasons is split in halves until
  the rows at fault are isolated; those go to the dead-letter file with the reason, the rest is inserted.
- **Crash between insert and mark.** The batch in flight is noted durably before its insert; after a
  restart it is inserted again alone (the same records): its span rows already in the store (by trace and
  span id) are not written again, and the rows of other tables (logs, metric points), which carry no
  ids, are deduplicated by ClickHouse: each insert into those tables names its rows in the log as its
  ``insert_deduplication_token``.
- **One core while it keeps up, both when behind or alone.** The materialized views of an insert run one
  after the other, leaving a core to the receivers, as long as the writer keeps up; behind (the last insert
  took longer than ``linger_s``, or more rows wait than the batch being inserted), or with no request received
  for a fifth of the linger (the end of a burst: no receiver wants the core), an insert runs them in parallel
  (``parallel_view_processing``): measured on a 2-core box, 32,768 spans in 0.71 s instead of 0.99.
- **Rows are built beside it.** A trace request is kept in the log as it arrived (``ingest.acceptance``):
  the converter thread builds its rows as soon as it is appended, off the acknowledgement's path, while
  the writer inserts earlier batches; a record it has not reached yet is built by the writer itself.
- **It survives anything.** An unexpected exception of one batch is logged and retried after a pause; a
  record that cannot be read back is skipped with a logged, counted loss.
"""

from __future__ import annotations

import itertools
import logging
import re
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from clickhouse_connect.driver.exceptions import DataError, ProgrammingError

from execlog_otel.ingest import dead_letter as dl
from execlog_otel.ingest.wal import Columns, DamagedRecord, Record, Wal
from execlog_otel.store import span_arrow
from execlog_otel.store.store import SPAN_TABLE, Store

log = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 50_000
DEFAULT_LINGER_S = 1.0
TAIL_SHARE = 4  # a batch also takes what would be left behind it when that is less than 1/TAIL_SHARE of one
EARLY_EVERY = 5  # lingers between two inserts made before their linger (the end of a burst; see _wait_for_work)
# Raised while encoding rows for the insert: the data is at fault, not the store.
PY_DATA_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError, struct.error, KeyError, IndexError,
                  DataError, ProgrammingError)
# ClickHouse error codes that mean "these rows", not "the store": parse and conversion errors, values out
# of range. Anything else (network, disk, too many parts, missing table, memory) is an outage: retried.
DATA_ERROR_CODES = {6, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 131, 190, 321, 407}
_CODE = re.compile(r"Code: (\d+)\.")


def is_data_error(exc: BaseException) -> bool:
    """True when the rows are at fault (retrying them unchanged cannot succeed)."""
    if isinstance(exc, PY_DATA_ERRORS):
        return True
    m = _CODE.search(str(exc))
    return bool(m and int(m.group(1)) in DATA_ERROR_CODES)


def reason_of(exc: BaseException) -> str:
    text = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}" if text else str(cause)
    return (text.splitlines()[0] if text else type(exc).__name__)[:1000]


# A batch's rows are column lists, or for spans one Arrow table (``wal.Columns``): the helpers below take both.
def _row_count(columns: Columns) -> int:
    if isinstance(columns, pa.Table):
        return columns.num_rows
    return len(columns[0]) if columns else 0


def _slice(columns: Columns, lo: int, hi: int) -> Columns:
    if lo == 0 and hi == _row_count(columns):
        return columns
    if isinstance(columns, pa.Table):
        return columns.slice(lo, hi - lo)
    return [c[lo:hi] for c in columns]


def _merge(parts: list[Columns]) -> Columns:
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], pa.Table):
        return pa.concat_tables(parts)
    merged = [list(c) for c in parts[0]]
    for cols in parts[1:]:
        for target, col in zip(merged, cols, strict=True):
            target.extend(col)
    return merged


def _as_lists(columns: Columns) -> list[list[Any]]:
    return span_arrow.to_columns(columns) if isinstance(columns, pa.Table) else columns


def _keep(columns: Columns, rows: list[int]) -> Columns:
    if isinstance(columns, pa.Table):
        return columns.take(pa.array(rows, type=pa.int64()))
    return [[c[i] for i in rows] for c in columns]


class _Batch:
    """Records of one table being inserted, merged into columns, and the row ranges still to insert."""

    def __init__(self, records: list[Record], table: str, names: list[str], columns: Columns):
        self.records = records
        self.table = table
        self.names = names
        self.columns = columns
        self.rows = _row_count(columns)
        self.todo: list[tuple[int, int]] = [(0, self.rows)] if self.rows else []
        self.checked = False


class LogWriter:
    """Drains a ``Wal`` into the store; ``flush`` asks for an insert now and waits for it."""

    def __init__(self, wal: Wal, store: Store | None, *, connect: Callable[[], Store] | None = None,
                 insert_settings: dict[str, Any] | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                 linger_s: float = DEFAULT_LINGER_S, retry_interval_s: float = 0.5,
                 max_retry_interval_s: float = 15.0, dead_letter_max_bytes: int = dl.DEFAULT_MAX_BYTES):
        if store is None and connect is None:
            raise ValueError("a writer without a store needs a way to connect")
        self.wal = wal
        self.store = store
        self._connect = connect
        self.insert_settings = dict(insert_settings or {"insert_deduplicate": 0})
        self.batch_rows = batch_rows
        self.linger_s = linger_s
        self._retry_interval_s = retry_interval_s
        self._max_retry_interval_s = max_retry_interval_s
        self.dead_letter = dl.DeadLetter(wal.directory, dead_letter_max_bytes)
        self.rows_written = 0
        self.inserts = 0
        self.last_error = ""
        self.failing = False  # the last insert attempt failed (the store is down): flush() stops waiting
        self.insert_lag_s = 0.0  # accepted -> inserted, for the oldest record of the last batch
        self._cond = threading.Condition()
        self._flush = 0  # flush requests pending
        self._stop = False
        self._current: _Batch | None = None
        self._last_insert = 0.0  # monotonic time the last batch began
        self._behind = False  # the last insert took longer than linger_s: the next one uses every core
        self._backlog = False  # more rows wait than the current batch's: so does it
        self._last_append = 0.0  # monotonic time of the last notify (a record appended)
        self._quiet_s = linger_s / 5
        self._last_early = float("-inf")  # monotonic time of the last insert made before its linger (quiet)
        self._thread = threading.Thread(target=self._run, name="execlog-log-writer", daemon=True)
        self._thread.start()
        self._arrived = threading.Event()  # a record was appended: the converter looks for requests to build
        # Only a log that keeps requests (a server's) has rows to build; an exporter's log does not.
        self._converter = threading.Thread(target=self._convert, name="execlog-log-converter", daemon=True)
        if wal.builds_requests:
            self._converter.start()

    def _convert(self) -> None:
        """The converter: builds the rows of each trace request kept as it arrived, oldest first."""
        while not self._stop:
            self._arrived.wait(1.0)
            self._arrived.clear()
            try:
                while not self._stop and self.wal.convert_next():
                    pass
            except Exception:  # noqa: BLE001 - the writer builds what is left; the converter carries on
                log.exception("the log's converter failed on a record; the writer builds it")

    # --- the loop --------------------------------------------------------------------
    def _run(self) -> None:
        delay = self._retry_interval_s
        while True:
            with self._cond:
                if not self._wait_for_work():
                    return
            try:
                self._check_requeue()
                progressed = self._step()
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any one batch
                log.exception("the log writer failed on a batch; retrying it")
                self._note_failure(exc)
                progressed = False
            if progressed:
                delay = self._retry_interval_s
                continue
            # Back off: appends notify the condition all the time, so only a stop cuts the pause short.
            deadline = time.monotonic() + delay
            with self._cond:
                while not self._stop and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                if self._stop:
                    return
            delay = min(delay * 2, self._max_retry_interval_s)

    def _wait_for_work(self) -> bool:
        """Called with the condition held: wait until a batch is due; False when stopping.

        A batch is due when ``batch_rows`` are pending, a flush is asked, ``linger_s`` has passed since
        the last insert began, or nothing was appended for a fifth of it: an idle writer inserts a lone
        request at once (visible at once), a busy one makes at most about one insert per ``linger_s``, each
        carrying everything that arrived, and the end of a burst is written without waiting out the linger.
        Such an early insert is made at most once per ``EARLY_EVERY`` lingers: requests that trickle in a little
        more than a fifth of the linger apart would each be the end of a burst, and each insert costs ≈ 0.2 s of
        CPU in the views whatever its size (a request of 50 spans every 0.4 s kept 39 % of a core busy).
        Rows that have waited a linger already are due at once: a batch holds one table's records in their order,
        so with two signals interleaved (traces and logs, traces and metrics) each batch was one request, one per
        linger, and the wait grew without bound."""
        while not self._stop:
            pending = self.wal.pending_rows
            if self._current is not None or (pending and (self._flush or pending >= self.batch_rows)):
                return True
            if pending:
                oldest = self.wal.oldest_pending_ns()
                if oldest is not None and time.time_ns() - oldest >= self.linger_s * 1e9:
                    return True
                now = time.monotonic()
                left = lingered = self.linger_s - (now - self._last_insert)
                if now - self._last_early >= EARLY_EVERY * self.linger_s:
                    left = min(left, self._quiet_s - (now - self._last_append))
                if left <= 0:
                    if lingered > 0:
                        self._last_early = now
                    return True
                self._cond.wait(left)
            else:
                self._cond.wait(1.0)
                if self.wal.directory.joinpath(dl.REQUEST_NAME).exists():
                    return True
        return False

    def _step(self) -> bool:
        """Insert one batch (or what is left of it); True when it is done."""
        if self._current is None:
            self._last_insert = time.monotonic()
            self._current = self._next_batch()
            if self._current is None:
                self._done_flushing()
                return True
            self._backlog = self.wal.pending_rows > self._current.rows
        batch = self._current
        if self.store is None:
            try:
                self.store = self._connect()
            except Exception as exc:  # noqa: BLE001 - unreachable: an outage like any other
                self._note_failure(exc)
                return False
            log.warning("the store is reachable now; writing the log")
        if not batch.checked:
            self._skip_landed(batch)
            batch.checked = True
        while batch.todo:
            lo, hi = batch.todo[0]
            try:
                self._insert(batch.table, batch.names, _slice(batch.columns, lo, hi), self._token(batch, lo, hi))
            except Exception as exc:  # noqa: BLE001 - classified below
                if not is_data_error(exc):
                    self._note_failure(exc)
                    return False
                if hi - lo == 1:
                    self.dead_letter.add(batch.table, batch.names, _as_lists(_slice(batch.columns, lo, hi)), 0,
                                         reason_of(exc))
                    batch.todo.pop(0)
                else:
                    mid = (lo + hi) // 2
                    batch.todo[0:1] = [(lo, mid), (mid, hi)]
                continue
            batch.todo.pop(0)
            self.rows_written += hi - lo
        self._finish(batch)
        return True

    def _next_batch(self) -> _Batch | None:
        """The oldest pending records of one table, read back and merged; damaged ones skipped and counted."""
        while True:
            # Less than a quarter of a batch left behind by a full one goes with it: an insert costs ≈ 0.2 s of CPU in
            # the views whatever its size (a burst of 102,400 spans ended with 49,664 and then 2,560 alone: 0.4 s).
            pending = self.wal.pending_rows
            head = self.wal.head(pending if pending <= self.batch_rows + self.batch_rows // TAIL_SHARE
                                 else self.batch_rows)
            if not head:
                if not self.wal.pending_records:
                    return None
                self.wal.wait_durable()  # the oldest record's fsync is running
                continue
            if head[0].maybe_landed:
                # The batch in flight at a crash, alone: the same rows under the same insert tokens.
                head = list(itertools.takewhile(lambda r: r.maybe_landed, head))
            batch = self._read_batch(head)
            if batch is not None:
                batch.checked = not any(r.maybe_landed for r in batch.records)
                self.wal.begin(batch.records)
                return batch

    def _read_batch(self, head: list[Record]) -> _Batch | None:
        """The leading records of ``head`` with the table and columns of the first; None when the first was
        damaged (skipped, marked done: the next call starts after it)."""
        records: list[Record] = []
        table, names, parts = "", [], []
        for rec in head:
            try:
                t, n, cols = self.wal.read(rec)
            except DamagedRecord as exc:
                if records:
                    break  # written after the records before it, in order
                self._lost(rec, str(exc))
                self.wal.mark_done([rec])
                return None
            if not records:
                table, names = t, n
            elif t != table or n != names or type(cols) is not type(parts[0]):
                break
            parts.append(cols)
            records.append(rec)
        return _Batch(records, table, names, _merge(parts))

    def _lost(self, rec: Record, why: str) -> None:
        self.wal.damaged_records += 1
        self.wal.lost_rows += rec.rows
        log.error("log record at %s bytes %d-%d (%d rows) cannot be read back (%s): skipped, its rows are lost",
                  self.wal._path(rec.seq).name, rec.offset, rec.end, rec.rows, why)

    def _skip_landed(self, batch: _Batch) -> None:
        """Rows of the batch in flight at a crash that the store already has are not written again."""
        if batch.table != SPAN_TABLE or "TraceId" not in batch.names or not batch.rows:
            return
        ti, si = batch.names.index("TraceId"), batch.names.index("SpanId")
        if isinstance(batch.columns, pa.Table):
            tids, sids = batch.columns.column(ti).to_pylist(), batch.columns.column(si).to_pylist()
        else:
            tids, sids = batch.columns[ti], batch.columns[si]
        have: set[tuple[str, str]] = set()
        for lo in range(0, batch.rows, 10_000):
            rows = self.store.pool.query(
                f"SELECT TraceId, SpanId FROM {self.store.table(SPAN_TABLE)} "
                "WHERE TraceId IN {t:Array(String)} AND SpanId IN {s:Array(String)}",
                parameters={"t": sorted(set(tids[lo:lo + 10_000])), "s": sorted(set(sids[lo:lo + 10_000]))}
            ).result_rows
            have.update((r[0], r[1]) for r in rows)
        if not have:
            return
        keep = [i for i in range(batch.rows) if (tids[i], sids[i]) not in have]
        log.warning("%d rows of the batch in flight before the restart are already stored; writing the other %d",
                    batch.rows - len(keep), len(keep))
        batch.columns = _keep(batch.columns, keep)
        batch.rows = len(keep)
        batch.todo = [(0, batch.rows)] if keep else []

    @staticmethod
    def _token(batch: _Batch, lo: int, hi: int) -> str:
        """The insert's deduplication token for tables whose rows carry no ids (not spans): the batch's first
        record (its acceptance time and place in the log) and the row range. Empty for spans."""
        if batch.table == SPAN_TABLE:
            return ""
        first = batch.records[0]
        return f"execlog-log:{batch.table}:{first.accepted_ns}:{first.seq}:{first.offset}:{lo}:{hi}"

    def _insert(self, table: str, names: list[str], columns: Columns, token: str = "") -> None:
        settings = self.insert_settings
        if token:
            settings = {**settings, "insert_deduplicate": 1, "insert_deduplication_token": token}
            if settings.get("async_insert"):
                settings["async_insert_deduplicate"] = 1
        if self._behind or self._backlog or time.monotonic() - self._last_append >= self._quiet_s:
            settings = {**settings, "parallel_view_processing": 1}
        began = time.monotonic()
        self.store.insert_columns(table, names, columns, settings=settings)
        self._behind = time.monotonic() - began > self.linger_s
        self.inserts += 1

    def _finish(self, batch: _Batch) -> None:
        self.wal.mark_done(batch.records)
        self._current = None
        if batch.records:
            self.insert_lag_s = round((time.time_ns() - batch.records[0].accepted_ns) / 1e9, 3)
        if self.last_error:
            log.warning("the store takes rows again; the log is being written")
        self.last_error = ""
        self.failing = False
        with self._cond:
            self._cond.notify_all()

    def _done_flushing(self) -> None:
        with self._cond:
            self._flush = 0
            self._cond.notify_all()

    def _note_failure(self, exc: BaseException) -> None:
        reason = reason_of(exc)[:300]
        if reason != self.last_error:
            log.error("the store refused rows (%s); they stay in the log %s and are retried", reason,
                      self.wal.directory)
        self.last_error = reason
        self.failing = True
        with self._cond:
            self._cond.notify_all()

    def _check_requeue(self) -> None:
        asked, ids = dl.read_request(self.wal.directory)
        if asked:
            n = requeue_into(self.wal, self.dead_letter, ids)
            log.warning("re-queued %d rows from the dead-letter file", n)

    # --- callers ----------------------------------------------------------------------
    def notify(self) -> None:
        """A record was appended: wake the writer (it decides whether a batch is due)."""
        self._last_append = time.monotonic()
        self._arrived.set()
        with self._cond:
            self._cond.notify_all()

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Insert everything pending now and wait; False on timeout or while the store is failing
        (the rows stay in the log and are written later)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._flush += 1
            self._cond.notify_all()
            try:
                while self.wal.pending_rows or self._current is not None:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stop:
                        return False
                    if self.failing and self._current is not None:
                        return False
                    self._cond.wait(min(left, 0.5))
                return True
            finally:  # a flush given up is withdrawn (else every later batch was due at once)
                self._flush = max(0, self._flush - 1)

    def wait_drained(self, timeout_s: float) -> bool:
        """Block until the log is empty (tests and shutdown), retrying through failures; False on timeout."""
        deadline = time.monotonic() + timeout_s
        asked = 0
        try:
            while self.wal.pending_rows or self._current is not None:
                if time.monotonic() > deadline:
                    return False
                with self._cond:
                    self._flush += 1
                    asked += 1
                    self._cond.notify_all()
                    self._cond.wait(0.05)
            return True
        finally:  # its flush requests withdrawn (a timed-out wait left them: every later batch was due at once)
            with self._cond:
                self._flush = max(0, self._flush - asked)

    def status(self) -> dict[str, Any]:
        return {"spans_written": self.rows_written, "inserts": self.inserts, "store_error": self.last_error,
                "insert_lag_s": self.insert_lag_s, "dead_letter_spans": self.dead_letter.count}

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is pending (within ``timeout_s``), then stop; the rest stays in the log for next time."""
        if not self.failing:
            self.flush(timeout_s)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._arrived.set()
        self._thread.join(timeout=timeout_s + 30)
        if self._converter.is_alive():
            self._converter.join(timeout=30)


def requeue_into(wal: Wal, dead: dl.DeadLetter, ids: set[str] | None) -> int:
    """Move dead-letter entries (all when ``ids`` is None) back into the log; how many rows."""
    taken = dead.take(ids)
    for (table, names), cols in dl.rows_to_columns(taken).items():
        wal.append(table, list(names), cols, len(cols[0]))
    return len(taken)
