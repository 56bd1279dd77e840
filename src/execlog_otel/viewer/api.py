"""JSON API under ``/api/``: thin views over ``store.queries``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from execlog_otel.store import queries

bp = Blueprint("api", __name__, url_prefix="/api")


def store():
    return current_app.extensions["execlog_store"]


@bp.errorhandler(queries.QueryError)
def bad_query(exc: queries.QueryError):
    return jsonify(error=str(exc)), 400


@bp.get("/executions")
def list_executions():
    f = queries.ListFilter.from_args(request.args)
    return jsonify(queries.list_executions(store(), f))


@bp.get("/executions/<execution_id>")
def get_execution(execution_id: str):
    attempt_raw = request.args.get("attempt")
    attempt = None
    if attempt_raw:
        if not attempt_raw.isdigit():
            raise queries.QueryError(f"attempt={attempt_raw!r}: expected a whole number")
        attempt = int(attempt_raw)
    item = queries.get_execution(store(), execution_id, attempt)
    if item is None:
        return jsonify(error=f"no execution {execution_id} in this store (it may be older than the retention)"), 404
    return jsonify(item)


@bp.get("/health")
def health() -> Any:
    return jsonify(status="ok")
