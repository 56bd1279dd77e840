"""``GET /api/sql?query=…``: a read-only SQL query over the store, for ``execlog sql``.

The route sits under ``/api/`` and is guarded by the app's access control like every other API
route (a signed-in session or ``Authorization: Bearer <token>`` when authentication is on). The
query runs on a separate read-only ClickHouse client (``sqlcmd.read_only_client``): the engine
itself refuses writes, DDL and setting changes. No SQL is built here; the user's statement is
checked and run by ``sqlcmd.run_read_only``.
"""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, jsonify, request

from execlog_otel import sqlcmd

bp = Blueprint("sql_api", __name__, url_prefix="/api")
_client_lock = threading.Lock()


def _client():
    """The app's read-only client, opened on first use."""
    client = current_app.extensions.get("execlog_sql_client")
    if client is None:
        with _client_lock:
            client = current_app.extensions.get("execlog_sql_client")
            if client is None:
                settings = current_app.config["EXECLOG_SETTINGS"]
                store = current_app.extensions["execlog_store"]
                client = sqlcmd.read_only_client(settings.store_url, store.database, settings.query_timeout_s)
                current_app.extensions["execlog_sql_client"] = client
    return client


@bp.errorhandler(sqlcmd.SqlTimeout)
def query_timeout(exc: sqlcmd.SqlTimeout):
    return jsonify(error=str(exc)), 504


@bp.errorhandler(sqlcmd.SqlError)
def bad_query(exc: sqlcmd.SqlError):
    return jsonify(error=str(exc)), 400


@bp.get("/sql")
def run_sql():
    raw_max = (request.args.get("max_rows") or str(sqlcmd.DEFAULT_MAX_ROWS)).strip()
    if not raw_max.isdigit():
        raise sqlcmd.SqlError(f"max_rows={raw_max!r}: expected a whole number")
    result = sqlcmd.run_read_only(_client(), request.args.get("query", ""), int(raw_max))
    return jsonify(result.to_json())
