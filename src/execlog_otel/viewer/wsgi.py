"""WSGI entry of the viewer alone (no OTLP receiver), for gunicorn or waitress.

    EXECLOG_CLICKHOUSE_URL=http://user:pass@host:8123/otel gunicorn 'execlog_otel.viewer.wsgi:app'
    waitress-serve --port 8080 execlog_otel.viewer.wsgi:app

Settings come from the ``EXECLOG_*`` environment (``config.Settings.from_env``). The viewer only
reads (a read-only client, as ``execlog viewer``): it does not create or migrate tables, so it can
point at any ClickHouse holding them.
"""

from __future__ import annotations

import threading

from flask import Flask

from execlog_otel.config import Settings
from execlog_otel.viewer.app import create_app


def make_app(settings: Settings | None = None) -> Flask:
    from execlog_otel.server import viewer_store

    settings = settings or Settings.from_env()
    return create_app(settings, viewer_store(settings), receiver=False)


class _LazyApp:
    """Opens the store on the first request, so importing this module (e.g. a gunicorn master
    checking the entry point) does not connect, and a bad URL is reported by the worker with the
    store's own message."""

    def __init__(self) -> None:
        self._app: Flask | None = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = make_app()
        return self._app(environ, start_response)


app = _LazyApp()
