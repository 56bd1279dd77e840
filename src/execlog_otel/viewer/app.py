"""The Flask application: the OTLP receiver, the JSON API and the viewer on one port.

Built like the Flask tutorial's factory: ``create_app`` constructs everything the views use (the read
model over the store, the retry dispatcher, the read-only SQL sessions, the receiver's sink) and
registers it as ``Services``; views reach it through ``viewer.services.services()`` only.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from execlog_otel import sqlcmd
from execlog_otel.config import Settings
from execlog_otel.local_only import LocalOnly
from execlog_otel.retry.dispatcher import RetryDispatcher
from execlog_otel.store.pool import ClientPool
from execlog_otel.store.repository import Repository
from execlog_otel.store.store import Store
from execlog_otel.viewer.json_provider import OrjsonProvider
from execlog_otel.viewer.services import EXTENSION, Services

SQL_SESSIONS = 2  # read-only sessions for /api/sql (a person typing queries, rarely more at once)


def create_app(settings: Settings | None = None, store: Store | None = None, *, receiver: bool = True,
               sink: Any = None) -> Flask:
    """App factory. ``store`` is opened from ``settings`` when not given; the app does not change it."""
    from execlog_otel import status
    from execlog_otel.ingest.sink import StoreSink
    from execlog_otel.viewer import (
        api,
        auth,
        bodies,
        code_api,
        compare_api,
        errors,
        insights_api,
        pages,
        retry_api,
        security,
        sql_api,
        steps_api,
    )

    settings = settings or Settings.from_env()
    if store is None:
        store = Store.open(settings.store_url, settings.database, settings.retention_days,
                           prices_file=settings.prices_file)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["EXECLOG_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = None  # the receiver enforces its own limit with a clear message
    database = store.database
    # Reads may come from elsewhere than writes (EXECLOG_READ_URL: a replica, a read-only user).
    reads_from = store
    if settings.read_url:
        reads_from = Store.open(settings.read_url, settings.database, settings.retention_days, migrate=False,
                                readonly=True, pool_size=8)
        database = reads_from.database
    app.extensions[EXTENSION] = Services(
        settings=settings,
        store=store,
        reads=Repository(reads_from, settings.query_timeout_s),
        retry=RetryDispatcher(store, settings),
        sql=ClientPool(lambda: sqlcmd.read_only_client(settings.read_store_url, database, settings.query_timeout_s),
                       SQL_SESSIONS, lazy=True),
        retention_days=status.retention_in_force(store, settings),
        sink=(sink or StoreSink(store)) if receiver else None,
    )
    for blueprint in (api.bp, retry_api.bp, pages.bp, code_api.bp, compare_api.bp, sql_api.bp, insights_api.bp,
                      steps_api.bp, status.bp):
        app.register_blueprint(blueprint)
    # Access control and CSRF, security headers, and every error answer: see those modules.
    auth.init_app(app, settings)
    bodies.init_app(app)
    security.init_app(app, settings.trusted_proxies)
    app.wsgi_app = LocalOnly(app.wsgi_app, settings)  # outermost: the Host the client itself sent
    errors.init_app(app)
    if receiver:
        from execlog_otel.ingest import receiver as receiver_mod

        app.register_blueprint(receiver_mod.bp)
    return app
