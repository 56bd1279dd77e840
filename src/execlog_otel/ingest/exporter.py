"""``ClickHouseSpanExporter``: an OpenTelemetry SDK SpanExporter writing ``otel_traces``.

Registered as the ``execlog`` traces exporter, so ``OTEL_TRACES_EXPORTER=execlog``
works; built with no arguments it reads ``EXECLOG_*`` settings. Spans are
mapped by ``store.rows`` (the same mapping the OTLP receiver uses) and inserted
column-oriented, one insert per batch.

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
from execlog_otel.ingest.sink import StoreSink
from execlog_otel.ingest.spool import Spool, SpoolError
from execlog_otel.store.client import DataDirLock, StoreError, chdb_path
from execlog_otel.store.rows import SpanColumns, gc_paused
from execlog_otel.store.store import Store

log = logging.getLogger(__name__)

DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024


def _open_spool(directory: Path, max_bytes: int) -> Spool:
    """The exporter's spool; a second runner process on the same machine gets its own directory."""
    try:
        return Spool(directory, max_bytes or DEFAULT_SPOOL_BYTES)
    except SpoolError:
        own = directory.with_name(f"{directory.name}-{os.getpid()}")
        log.warning("spool %s is in use by another process; spooling to %s", directory, own)
        return Spool(own, max_bytes or DEFAULT_SPOOL_BYTES)


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
                spool_dir = self.settings.resolved_spool_dir / "exporter"
            retention = self.settings.retention_days

            def connect() -> Store:
                return Store.open(url, database, retention, migrate=migrate)

            try:
                self._store = connect()
            except StoreError as exc:
                if spool_dir is None:
                    raise
                # Unreachable at start: spool from the first span; the drainer connects when it is back.
                log.error("%s; keeping spans in the spool %s until it is reachable", exc, spool_dir)
                self._sink = StoreSink(None, _open_spool(Path(spool_dir), self.settings.spool_max_bytes),
                                       connect=connect)
                return
        # While ClickHouse refuses inserts, batches wait in an on-disk spool (see ingest.sink).
        self._sink = StoreSink(self._store, _open_spool(Path(spool_dir), self.settings.spool_max_bytes)
                               if spool_dir is not None else None)

    @property
    def store(self) -> Store | None:
        return self._sink.store if self._sink is not None else self._store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        if self._delegate is not None:
            return self._delegate.export(spans)
        columns = SpanColumns()
        cache: dict[int, tuple[dict[str, str], str]] = {}
        with gc_paused():
            for span in spans:
                columns.add_readable_span(span, cache)
        try:
            with self._lock:
                self._sink.write(columns)
        except Exception as exc:  # noqa: BLE001 - the SDK expects a result, not an exception
            log.error("could not write %d spans to ClickHouse: %s", len(columns), exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._delegate is not None:
            return self._delegate.force_flush(timeout_millis)
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
