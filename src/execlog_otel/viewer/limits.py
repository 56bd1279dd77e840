"""What the viewer answers when the store says no: a query past its time budget, or no store at all.

Every viewer query runs with ``max_execution_time`` = ``EXECLOG_QUERY_TIMEOUT_S``
(``store.queries``), so ClickHouse cancels a slow one; here that cancellation
becomes a 504 that says so (JSON under ``/api/``, a short page elsewhere)
instead of a 500 or a hanging page, and an unreachable store becomes a 503.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from flask import Flask, Response, current_app, jsonify, request

from execlog_otel.store.client import StoreError

log = logging.getLogger(__name__)

_TIMEOUT = re.compile(r"\bCode: 159\b|TIMEOUT_EXCEEDED|Timeout exceeded")
# Driver messages that mean ClickHouse could not be reached at all.
_UNREACHABLE = re.compile(r"Connection refused|Failed to establish|Max retries exceeded|timed out|"
                          r"Name or service not known|Connection reset", re.I)


def is_query_timeout(exc: BaseException) -> bool:
    return bool(_TIMEOUT.search(str(exc)))


def _answer(status: int, message: str) -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>execlog: {status}</title>"
            f"</head><body><main><h1>{status}</h1><p>{html.escape(message)}</p>"
            "<p><a href=\"/\">Back to the execution log</a></p></main></body></html>")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def store_failure(exc: Exception) -> Any:
    timeout_s = current_app.config["EXECLOG_SETTINGS"].query_timeout_s
    if is_query_timeout(exc):
        log.warning("query cancelled after %s s: %s %s", timeout_s, request.method, request.path)
        return _answer(504, f"the query took longer than {timeout_s:g} s and was cancelled; narrow the time range "
                            "or filters, or raise EXECLOG_QUERY_TIMEOUT_S")
    if isinstance(exc, StoreError) or _UNREACHABLE.search(str(exc)):
        log.error("store unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return _answer(503, "the store (ClickHouse) is not reachable right now; try again shortly")
    log.exception("store error on %s %s", request.method, request.path)
    return _answer(500, "the store could not answer this request; see the server log")


def init_app(app: Flask) -> None:
    app.register_error_handler(ClickHouseError, store_failure)
    app.register_error_handler(StoreError, store_failure)
