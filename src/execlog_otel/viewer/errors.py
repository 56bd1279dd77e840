"""Every error the viewer answers, in one place and one shape.

Under ``/api/`` (and for the Download Code files) an error is ``{"error": "<what was wrong and how
to fix it>", "code": "<short name>"}`` with its HTTP status; for a page a short HTML page says the
same. A request value the store cannot use (``QueryError``) is a 400; a query ClickHouse cancelled
at ``EXECLOG_QUERY_TIMEOUT_S`` is a 504 that says so; an unreachable store is a 503; anything else
is a 500 and the server log has the trace. What a ClickHouse error means comes from its error code
(``store.errors``).
"""

from __future__ import annotations

import html
import logging
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from execlog_otel import sqlcmd
from execlog_otel.store import errors as store_errors
from execlog_otel.store.client import StoreError
from execlog_otel.store.errors import QueryError

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """The execution (or page) asked for is not in this store."""


class Forbidden(PermissionError):
    """The caller sees the execution but their role in its project does not allow this (403)."""


def not_found_message(execution_ids: list[str] | str) -> str:
    ids = ", ".join(execution_ids) if isinstance(execution_ids, list) else execution_ids
    return f"no execution {ids} in this store (it may be older than the retention)"


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 500: "Something went wrong",
           503: "Store unavailable",
           504: "Query timed out"}

# Routes outside /api/ that answer files, not pages: their errors are JSON too.
JSON_BLUEPRINTS = frozenset({"code"})


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.blueprint in JSON_BLUEPRINTS


def answer(status: int, code: str, message: str, **extra: Any) -> Any:
    """The one error body: JSON for the API (and files), a short page for pages."""
    if wants_json():
        return jsonify(error=message, code=code, **extra), status
    try:
        # The viewer's own page (top bar, styles, a way back); the plain page below if even that fails.
        page = render_template("error.html", code=status, title=_TITLES.get(status, "Error"), message=message,
                               base_url=current_app.config["EXECLOG_SETTINGS"].base_url.rstrip("/"))
        return Response(page, status=status, content_type="text/html; charset=utf-8")
    except Exception:  # noqa: BLE001 - an error page must not fail
        log.exception("error page")
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>execlog: {status}</title>"
            f"</head><body><main><h1>{status}</h1><p>{html.escape(message)}</p>"
            "<p><a href=\"/\">Back to the execution log</a></p></main></body></html>")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def store_failure(exc: Exception) -> Any:
    timeout_s = current_app.config["EXECLOG_SETTINGS"].query_timeout_s
    if store_errors.is_timeout(exc):
        log.warning("query cancelled after %s s: %s %s", timeout_s, request.method, request.path)
        return answer(504, "query_timeout", f"the query took longer than {timeout_s:g} s and was cancelled; "
                                            "narrow the time range or filters, or raise EXECLOG_QUERY_TIMEOUT_S")
    if isinstance(exc, StoreError) or store_errors.is_unreachable(exc):
        log.error("store unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return answer(503, "store_unavailable", "the store (ClickHouse) is not reachable right now; try again shortly")
    log.exception("store error on %s %s", request.method, request.path)
    return answer(500, "store_error", "the store could not answer this request; see the server log")


def _http_error(exc: HTTPException) -> Any:
    if wants_json():
        return answer(exc.code or 500, "http_" + str(exc.code), exc.description or exc.name)
    if exc.code == 404:
        return answer(404, "not_found", exc.description or exc.name)
    return exc


def _unexpected(exc: Exception) -> Any:
    log.exception("unexpected error")
    return answer(500, "internal", "internal error; see the server log")


def init_app(app: Flask) -> None:
    app.register_error_handler(QueryError, lambda exc: answer(400, "bad_request", str(exc)))
    app.register_error_handler(NotFound, lambda exc: answer(404, "not_found", str(exc)))
    app.register_error_handler(Forbidden, lambda exc: answer(403, "forbidden", str(exc)))
    app.register_error_handler(sqlcmd.SqlTimeout, lambda exc: answer(504, "query_timeout", str(exc)))
    app.register_error_handler(sqlcmd.SqlError, lambda exc: answer(400, "bad_request", str(exc)))
    app.register_error_handler(ClickHouseError, store_failure)
    app.register_error_handler(StoreError, store_failure)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
