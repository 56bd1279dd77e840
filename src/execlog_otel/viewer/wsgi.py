"""WSGI entry of the viewer alone (no OTLP receiver), for gunicorn or waitress: the factory ``make_app``.

    EXECLOG_CLICKHOUSE_URL=http://user:pass@host:8123/otel gunicorn 'execlog_otel.viewer.wsgi:make_app()'
    waitress-serve --port 8080 --call execlog_otel.viewer.wsgi:make_app

Settings come from the ``EXECLOG_*`` environment (``config.Settings.from_env``). The viewer only
reads (a read-only client, as ``execlog viewer``): it does not create or migrate tables, so it can
point at any ClickHouse holding them. Importing this module connects to nothing; the store is opened
when the server calls the factory (in each worker), and a bad URL is reported there with the store's
own message. ``execlog_otel.viewer.wsgi:app`` names the same app for servers that cannot call a factory.

Under another server the guessing limits are applied by the app itself (429 before any password
hash); ``execlog serve`` / ``execlog viewer`` also turn such guesses away before the app
(``viewer.guess_screen``). In front of gunicorn, the reverse proxy is the place for that.
"""

from __future__ import annotations

from flask import Flask

from execlog_otel.config import Settings
from execlog_otel.viewer.app import create_app


def make_app(settings: Settings | None = None) -> Flask:
    """The viewer app over the store ``settings`` (default: the ``EXECLOG_*`` environment) names."""
    from execlog_otel.server import viewer_store

    settings = settings or Settings.from_env()
    return create_app(settings, viewer_store(settings), receiver=False)


def __getattr__(name: str) -> Flask:
    # ``wsgi:app``: made by the factory when a server first looks it up (PEP 562), not at import.
    if name == "app":
        app = globals()["app"] = make_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
