"""The Flask application: the OTLP receiver, the JSON API and the viewer on one port."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from execlog_otel.config import Settings
from execlog_otel.ingest.sink import StoreSink
from execlog_otel.store.store import Store

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, store: Store | None = None, *, receiver: bool = True,
               sink: Any = None) -> Flask:
    """App factory. ``store`` is opened from ``settings`` when not given."""
    settings = settings or Settings.from_env()
    if store is None:
        store = Store.open(settings.store_url, settings.database, settings.retention_days)
    store.query_timeout_s = settings.query_timeout_s
    app = Flask(__name__)
    app.config["EXECLOG_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = None  # the receiver enforces its own limit with a clear message
    app.extensions["execlog_store"] = store
    from execlog_otel.viewer import api

    app.register_blueprint(api.bp)
    from execlog_otel.viewer import retry_api

    app.register_blueprint(retry_api.bp)
    from execlog_otel.viewer import pages

    app.register_blueprint(pages.bp)
    from execlog_otel.viewer import code_api

    app.register_blueprint(code_api.bp)
    from execlog_otel.viewer import sql_api

    app.register_blueprint(sql_api.bp)
    # Access control, CSRF, security headers, query limits and status: see those modules.
    from execlog_otel import status as status_mod
    from execlog_otel.viewer import auth, limits, security

    auth.init_app(app, settings)
    security.init_app(app)
    limits.init_app(app)
    app.register_blueprint(status_mod.bp)
    if receiver:
        from execlog_otel.ingest import receiver as receiver_mod

        app.extensions["execlog_sink"] = sink or StoreSink(store)
        app.register_blueprint(receiver_mod.bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        from flask import request

        if request.path.startswith("/api/"):
            return jsonify(error=exc.description or exc.name), exc.code
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify(error="internal error; see the server log"), 500

    return app
