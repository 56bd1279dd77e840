"""Where received spans go: straight into the store, one insert per request."""

from __future__ import annotations

import threading

from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.store import Store


class StoreSink:
    """Writes each batch in one insert; the lock keeps one writer on the embedded engine at a time."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self.spans_written = 0

    def write(self, columns: SpanColumns) -> None:
        if not len(columns):
            return
        with self._lock:
            self.store.insert_span_columns(columns.columns)
            self.spans_written += len(columns)

    def status(self) -> dict:
        return {"spans_written": self.spans_written}

    def close(self) -> None:
        pass
