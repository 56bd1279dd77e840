"""Where received spans go: into the store, or durably into the spool when the store is down.

``StoreSink.write`` returns only once a batch is durable: inserted into
ClickHouse, or fsynced in the spool (``ingest.spool``). While anything is
spooled, new batches queue behind it, so batches reach the store in the order
they arrived. A background thread drains the spool when the store is back.

Inserts are idempotent where a batch can be written twice. A spooled batch
carries a random id, sent as ``insert_deduplication_token`` on every insert of
it; with the deduplication window of migration ``004_dedup_window`` (on the
span table and the materialized views' tables) a batch written again — the
insert succeeded but the process died before the spool marked it — is stored
once. The first, direct insert of a batch goes without the token (deduplication
costs the hot path two to three times the insert time); when it fails, the
batch is spooled as *tried*, and before its replay the store is asked whether
its spans already landed (an error after the commit, e.g. a lost answer).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from execlog_otel.ingest.spool import Spool
from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.store import Store

log = logging.getLogger(__name__)


DIRECT_INSERT: dict[str, Any] = {"insert_deduplicate": 0}


def dedup_settings(batch_id: str) -> dict[str, Any]:
    """Insert settings that make repeating the insert of one batch a no-op."""
    return {"insert_deduplicate": 1, "insert_deduplication_token": batch_id,
            "deduplicate_blocks_in_dependent_materialized_views": 1}


def stored_span_count(store: Store, columns: list[list[Any]]) -> int:
    """How many of these spans (by trace and span id) the store already has."""
    trace_ids, span_ids = sorted(set(columns[1])), sorted(set(columns[2]))
    sql = (f"SELECT count() FROM {store.table('otel_traces')} "
           "WHERE TraceId IN {t:Array(String)} AND SpanId IN {s:Array(String)}")
    return int(store.pool.query(sql, parameters={"t": trace_ids, "s": span_ids}).result_rows[0][0])


MAX_GROUP_SPANS = 32_768  # largest insert made of queued requests
# Longest a writer waits for concurrent senders' requests to join its insert (see StoreSink._linger).
MAX_LINGER_S = 0.03
# Raised while encoding spans for the insert or the spool: the data is at fault, not the store.
DATA_ERRORS = (ValueError, TypeError, OverflowError, UnicodeError)


class SpanDataError(ValueError):
    """Spans that no store would take (the client should not retry them unchanged)."""


@dataclass(eq=False)
class _Pending:
    """One request's spans waiting for the writer, and how its write ended."""

    columns: list[list[Any]]
    spans: int
    done: bool = False
    spooled: bool = False
    error: Exception | None = None


class StoreSink:
    """Writes batches in order, one insert per batch, spooling what the store does not take.

    Without a spool a failed insert raises (the receiver answers 503 and the client retries)."""

    def __init__(self, store: Store | None, spool: Spool | None = None, *,
                 connect: Callable[[], Store] | None = None, retry_interval_s: float = 0.5,
                 max_retry_interval_s: float = 15.0):
        if store is None and (connect is None or spool is None):
            raise ValueError("a sink without a store needs a spool and a way to connect")
        self.store = store
        self._connect = connect  # opens the store once it is reachable (it was not at start)
        self.spool = spool
        self._lock = threading.Lock()  # one writer at a time (the embedded engine, and batch order)
        self._queue_lock = threading.Lock()
        self._queued = threading.Condition(self._queue_lock)  # notified when a request joins the queue
        self._queue: deque[_Pending] = deque()
        self._last_group = 1  # requests in the last direct insert: how many senders write at once
        self._last_insert_s = 0.0
        self.spans_written = 0
        self.spans_spooled = 0
        self.inserts = 0  # direct inserts made (a group of queued requests is one)
        self.last_error = ""
        self._retry_interval_s = retry_interval_s
        self._max_retry_interval_s = max_retry_interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._drainer: threading.Thread | None = None
        if spool is not None:
            self._drainer = threading.Thread(target=self._drain_loop, name="execlog-spool-drain", daemon=True)
            self._drainer.start()
            if spool.pending_batches:
                log.warning("spool %s holds %d spans from before; writing them to the store",
                            spool.directory, spool.pending_spans)

    def _connected_store(self) -> Store:
        if self.store is None:
            self.store = self._connect()
            log.warning("the store is reachable now; writing the spooled spans")
        return self.store

    def _replay(self, batch: Any) -> None:
        self._connected_store()
        if batch.tried and stored_span_count(self.store, batch.columns) >= batch.spans:
            log.info("spooled batch %s had landed before it was spooled; not writing it again", batch.batch_id)
            return
        self.store.insert_span_columns(batch.columns, settings=dedup_settings(batch.batch_id))

    def write(self, columns: SpanColumns) -> None:
        """Return once ``columns`` are durable (stored or spooled); raise when neither is possible.

        Group commit: requests that arrive while an insert runs queue up, and the next writer to get
        the lock writes all of them in one insert (fewer, larger inserts are what ClickHouse likes)."""
        if not len(columns):
            return
        mine = _Pending(columns.columns, len(columns))
        with self._queued:
            self._queue.append(mine)
            self._queued.notify_all()
        with self._lock:
            if not mine.done:
                self._linger()
                self._write_group(self._take_group())
        if mine.error is not None:
            raise mine.error
        if mine.spooled:
            self._wake.set()

    def _linger(self) -> None:
        """Wait briefly for the requests of concurrent senders before inserting.

        Each insert costs a fixed 30–100 ms (a part per table and view), so the spans per insert set
        the throughput. When the last insert carried several requests, senders write concurrently:
        their next requests are being decoded right now and would otherwise reach the store one
        insert later, so the writer waits — at most a fraction of an insert's time — until as many
        requests are queued. A lone sender (last group of one) never waits."""
        want = self._last_group
        if want <= 1:
            return
        deadline = time.monotonic() + min(MAX_LINGER_S, self._last_insert_s / 2)
        with self._queued:
            while len(self._queue) < want and sum(p.spans for p in self._queue) < MAX_GROUP_SPANS:
                left = deadline - time.monotonic()
                if left <= 0 or not self._queued.wait(left):
                    break

    def _take_group(self) -> list[_Pending]:
        with self._queue_lock:
            group, total = [], 0
            while self._queue and (not group or total + self._queue[0].spans <= MAX_GROUP_SPANS):
                item = self._queue.popleft()
                group.append(item)
                total += item.spans
            return group

    def _write_group(self, group: list[_Pending]) -> None:
        """Insert (or spool) queued requests as one batch; the caller holds the writer lock.

        Spans that cannot even be encoded (a data error, not a store failure) are never spooled: the
        group is retried request by request, so only the request carrying them is refused."""
        if len(group) == 1:
            merged = group[0].columns
        else:
            merged = [[] for _ in group[0].columns]
            for item in group:
                for target, column in zip(merged, item.columns, strict=True):
                    target.extend(column)
        n = sum(item.spans for item in group)
        started = time.monotonic()
        try:
            if self._store_or_spool(merged, n):
                for item in group:
                    item.spooled = True
        except DATA_ERRORS as exc:
            if len(group) > 1:
                for item in group:
                    self._write_group([item])
                return
            group[0].error = SpanDataError(f"the spans cannot be stored as sent: {exc}")
        except Exception as exc:  # noqa: BLE001 - every request of the group gets the error
            for item in group:
                item.error = exc
        finally:
            for item in group:
                item.done = True
            self._last_group = len(group)
            self._last_insert_s = time.monotonic() - started

    def _store_or_spool(self, merged: list[list[Any]], n: int) -> bool:
        """Insert, or append to the spool when the store fails; True when spooled."""
        tried = False
        if self.store is not None and (self.spool is None or not self.spool.pending_batches):
            try:
                self.store.insert_span_columns(merged, settings=DIRECT_INSERT)
                self.spans_written += n
                self.inserts += 1
                return False
            except DATA_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - any store failure: spool, or the callers answer 503
                if self.spool is None:
                    raise
                self._note_failure(exc)
                tried = True
        self.spool.append(uuid.uuid4().hex, merged, n, tried=tried)
        self.spans_spooled += n
        return True

    def _note_failure(self, exc: Exception) -> None:
        reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:300]
        if reason != self.last_error:
            log.error("the store refused spans (%s); keeping them in the spool %s until it is back",
                      reason, self.spool.directory if self.spool else "")
        self.last_error = reason

    def drain(self) -> bool:
        """Write spooled batches, oldest first, until the spool is empty (True) or an insert fails (False)."""
        if self.spool is None:
            return True
        while True:
            with self._lock:
                batch = self.spool.next_batch()
                if batch is None:
                    if self.last_error:
                        log.warning("the store is back; the spool is drained")
                    self.last_error = ""
                    return True
                try:
                    self._replay(batch)
                except Exception as exc:  # noqa: BLE001 - keep it spooled, retry later
                    self._note_failure(exc)
                    return False
                self.spool.mark_written(batch)
                self.spans_written += batch.spans

    def _drain_loop(self) -> None:
        delay = self._retry_interval_s
        while not self._stop.is_set():
            self._wake.wait(timeout=delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self.spool.pending_batches:
                if self.drain():
                    delay = self._retry_interval_s
                else:
                    delay = min(delay * 2, self._max_retry_interval_s)

    def wait_drained(self, timeout_s: float) -> bool:
        """Block until the spool is empty (tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.spool is not None and self.spool.pending_batches:
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.05)
        return True

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"spans_written": self.spans_written, "spans_spooled": self.spans_spooled,
                               "store_error": self.last_error}
        out["spool"] = self.spool.status() if self.spool is not None else None
        return out

    def close(self) -> None:
        """Stop the drainer after one last attempt; what is still spooled stays on disk for next time."""
        if self.spool is None:
            return
        self._stop.set()
        self._wake.set()
        if self._drainer is not None:
            self._drainer.join(timeout=10)
        try:
            self.drain()
        finally:
            if self.spool.pending_batches:
                log.warning("%d spans stay in the spool %s; they are written at the next start",
                            self.spool.pending_spans, self.spool.directory)
            self.spool.close()
