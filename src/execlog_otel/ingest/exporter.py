"""``ClickHouseSpanExporter``: an OpenTelemetry SDK SpanExporter writing ``otel_traces``.

Registered as the ``execlog`` traces exporter, so ``OTEL_TRACES_EXPORTER=execlog``
works; built with no arguments it reads ``EXECLOG_*`` settings. Spans are
mapped and validated by ``store.rows`` (the same mapping the OTLP receiver
uses). It keeps its own write-ahead log under the same rules as ``execlog
serve``: a batch is appended and fsynced to the log, then written by the log's
writer, which ``export`` asks for at once and waits for while the store takes
inserts; while it does not, the batch stays durable in the log and is retried
in order (``export`` still succeeds). Against a ClickHouse server inserts use
``async_insert=1, wait_for_async_insert=1`` unless ``EXECLOG_ASYNC_INSERT=false``.

When the store is the embedded one and ``execlog serve`` already owns its data
directory, the exporter sends OTLP/HTTP to that server instead: chDB lets only
one process open a directory.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from execlog_otel.config import Settings
from execlog_otel.ingest.adopt import EXPORTER_LOG, adopt_siblings
from execlog_otel.ingest.sink import StoreSink, insert_settings
from execlog_otel.ingest.wal import Wal, WalError
from execlog_otel.store.client import DataDirLock, StoreError, chdb_path
from execlog_otel.store.rows import SpanColumns, gc_paused
from execlog_otel.store.store import Store

log = logging.getLogger(__name__)

DEFAULT_LOG_BYTES = 256 * 1024 * 1024
FLUSH_TIMEOUT_S = 30.0


def _open_log(directory: Path, max_bytes: int) -> Wal:
    """The exporter's log; a second runner process on the same machine gets its own directory. The logs of
    runners that are gone (``<directory>-<pid>``, or ``directory`` itself) move into it (``ingest.adopt``)."""
    max_bytes = max_bytes or DEFAULT_LOG_BYTES
    try:
        wal = Wal(directory, max_bytes)
    except WalError:
        own = directory.with_name(f"{directory.name}-{os.getpid()}")
        log.warning("log %s is in use by another process; logging to %s", directory, own)
        wal = Wal(own, max_bytes)
    adopt_siblings(wal, directory, max_bytes)
    return wal


class ClickHouseSpanExporter(SpanExporter):
    def __init__(self, url: str | None = None, database: str | None = None, *, store: Store | None = None,
                 settings: Settings | None = None, migrate: bool = True, spool_dir: str | Path | None = None):
        self.settings = settings or Settings.from_env()
        self._sink: StoreSink | None = None
        self._store = store
        self._delegate: SpanExporter | None = None
        self._lock = threading.Lock()
        self._shutdown = False
        self._dir_lock: DataDirLock | None = None
        self.rejected_spans = 0  # spans refused by validation (ids, timestamps, retention), logged
        if store is None:
            url = url or self.settings.store_url
            database = database or self.settings.database
            path = chdb_path(url)
            if path is not None:
                data_dir = path.parent if path.name == "clickhouse" else path
                owner = DataDirLock(data_dir).owner()
                if owner and owner.get("url"):
                    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                    endpoint = owner["url"].rstrip("/") + "/v1/traces"
                    log.info("the embedded store is owned by execlog serve (pid %s); exporting to %s",
                             owner.get("pid"), endpoint)
                    self._delegate = OTLPSpanExporter(endpoint=endpoint)
                    return
                if owner:
                    raise StoreError(f"the data directory {data_dir} is in use by process {owner.get('pid')}")
                # Hold the directory like execlog serve does, so others learn who has it.
                self._dir_lock = DataDirLock(data_dir)
                self._dir_lock.acquire()
            if spool_dir is None and self.settings.spool_max_bytes > 0:
                spool_dir = self.settings.resolved_spool_dir / EXPORTER_LOG
            retention = self.settings.retention_days

            def connect() -> Store:
                return Store.open(url, database, retention, migrate=migrate)

            insert = insert_settings(url, self.settings.async_insert)
            try:
                self._store = connect()
            except StoreError as exc:
                if spool_dir is None:
                    raise
                # Unreachable at start: log from the first span; the writer connects when it is back.
                log.error("%s; keeping spans in the log %s until it is reachable", exc, spool_dir)
                self._sink = StoreSink(None, _open_log(Path(spool_dir), self.settings.spool_max_bytes),
                                       connect=connect, settings=insert)
                return
        else:
            insert = None
        # Every batch goes through the exporter's own write-ahead log (see ingest.sink).
        self._sink = StoreSink(self._store, _open_log(Path(spool_dir), self.settings.spool_max_bytes)
                               if spool_dir is not None else None, settings=insert)

    @property
    def store(self) -> Store | None:
        return self._sink.store if self._sink is not None else self._store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        if self._delegate is not None:
            return self._delegate.export(spans)
        columns = SpanColumns(retention_days=self.settings.retention_days)
        cache: dict[int, tuple[dict[str, str], str]] = {}
        with gc_paused():
            for span in spans:
                columns.add_readable_span(span, cache)
        if columns.rejected:
            self.rejected_spans += columns.rejected
            log.warning("rejected %d of %d spans: %s", columns.rejected, len(spans), "; ".join(columns.errors[:3]))
        try:
            with self._lock:
                self._sink.write(columns)
        except Exception as exc:  # noqa: BLE001 - the SDK expects a result, not an exception
            log.error("could not write %d spans: %s", len(columns), exc)
            return SpanExportResult.FAILURE
        # Durable now; written at once while the store takes inserts (the SDK already batches).
        self._sink.flush(FLUSH_TIMEOUT_S)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._delegate is not None:
            return self._delegate.force_flush(timeout_millis)
        if self._sink is not None:
            return self._sink.flush(timeout_millis / 1000)
        return True

    def shutdown(self) -> None:
        self._shutdown = True
        if self._sink is not None:
            self._sink.close()
        if self._delegate is not None:
            self._delegate.shutdown()
        if self._dir_lock is not None:
            if self._store is not None:
                self._store.close()
            self._dir_lock.release()
