"""``GET /api/sql?query=…``: a read-only SQL query over the store, for ``execlog sql``.

The route sits under ``/api/`` and is guarded by the app's access control like every other API
route (a signed-in session or ``Authorization: Bearer <token>`` when authentication is on). The
query runs on read-only ClickHouse sessions (``sqlcmd.read_only_client``, opened by ``create_app``): the engine
itself refuses writes, DDL and setting changes. No SQL is built here; the user's statement is
checked and run by ``sqlcmd.run_read_only``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from execlog_otel import sqlcmd
from execlog_otel.viewer import access
from execlog_otel.viewer.params import whole_number
from execlog_otel.viewer.services import services

bp = Blueprint("sql_api", __name__, url_prefix="/api")


@bp.get("/sql")
def run_sql():
    access.require_admin()  # raw SQL reads every project
    max_rows = whole_number((request.args.get("max_rows") or str(sqlcmd.DEFAULT_MAX_ROWS)).strip(), "max_rows")
    s = services()
    result = sqlcmd.run_read_only(s.sql, request.args.get("query", ""), max_rows, s.store.database)
    return jsonify(result.to_json())
