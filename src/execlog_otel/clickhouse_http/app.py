"""The WSGI application answering ClickHouse HTTP requests (``/ping``, ``/?query=…``, POST bodies)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from execlog_otel.clickhouse_http import framing
from execlog_otel.clickhouse_http.auth import Authenticator
from execlog_otel.clickhouse_http.engine import Engine
from execlog_otel.clickhouse_http.errors import SYNTAX_ERROR, UNKNOWN_DATABASE, ChError
from execlog_otel.clickhouse_http.request import MAX_QUERY_BYTES, ChRequest, parse

log = logging.getLogger(__name__)

OK = b"Ok.\n"
HEALTH_PATHS = ("/ping", "/replicas_status")
# Database names a client may ask for: the store's, and ClickHouse's "default" (what clients send unless
# told otherwise) — both mean the store's database.
DEFAULT_DATABASE = "default"


class ClickHouseApp:
    def __init__(self, engine: Engine, auth: Authenticator):
        self.engine = engine
        self.auth = auth

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if path in HEALTH_PATHS or (method in ("GET", "HEAD") and path == "/" and not environ.get("QUERY_STRING")):
            start_response("200 OK", [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Length", "4")])
            return [OK] if method != "HEAD" else []
        if method not in ("GET", "POST"):
            return self._error(start_response, ChError(48, "NOT_IMPLEMENTED", f"method {method} is not served"), 405)
        try:
            body = environ["wsgi.input"].read(MAX_QUERY_BYTES + 1) if method == "POST" else b""
            request = parse(environ, body)
            self.auth.check(request.user, request.key, environ.get("REMOTE_ADDR", ""))
            if request.database not in ("", DEFAULT_DATABASE, self.engine.database):
                raise ChError.of(UNKNOWN_DATABASE, f"Database {request.database} does not exist: this endpoint serves "
                                                   f"the execution log's database {self.engine.database}")
            if not request.query.strip():
                raise ChError.of(SYNTAX_ERROR, "Empty query")
        except ChError as exc:
            return self._error(start_response, exc)
        if framing.is_hello(request.query, request.client_protocol_version):
            body = framing.native_hello(self.engine.display_name, self.engine.version, self.engine.timezone,
                                        request.client_protocol_version)
            start_response("200 OK", [*self._headers(request, "Native", {}), ("Content-Length", str(len(body)))])
            return [body]
        return self._stream(request, start_response)

    def _headers(self, request: ChRequest, fmt: str, summary: dict[str, str]) -> list[tuple[str, str]]:
        return framing.headers(fmt, request.query_id, self.engine.timezone, self.engine.display_name, summary, "")

    def _stream(self, request: ChRequest, start_response: Callable) -> Iterator[Any]:
        """Run the query; the status goes out with the first chunk, so early errors get their own status."""
        request.query_id = request.query_id or str(uuid.uuid4())
        started = False
        try:
            with self.engine.run(request.query, request.default_format, request.params, request.settings) as result:
                chunks = iter(result.chunks)
                first = next(chunks, None)
                headers = framing.headers(result.format, request.query_id, self.engine.timezone,
                                          self.engine.display_name, result.summary, request.response_encoding)
                if result.length is not None and not request.response_encoding:
                    # One piece: its length is known, and the server writes the engine's buffer without chunking.
                    headers.append(("Content-Length", str(result.length)))
                start_response("200 OK", headers)
                started = True
                yield from framing.encoded(_prepend(first, chunks), request.response_encoding)
        except ChError as exc:
            log.info("clickhouse-http query refused or failed: %s", exc.message)
            if not started:
                yield from self._error(start_response, exc)
            else:  # mid-stream, as ClickHouse does: the status is gone, the exception ends the body
                yield b"\n" + exc.text(self.engine.version).encode()

    def _error(self, start_response: Callable, exc: ChError, status: int | None = None) -> list[bytes]:
        code = status or exc.status
        body = exc.text(self.engine.version).encode()
        headers = [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Length", str(len(body))),
                   ("X-ClickHouse-Exception-Code", str(exc.code)),
                   ("X-ClickHouse-Server-Display-Name", self.engine.display_name)]
        if exc.retry_after_s is not None:
            headers.append(("Retry-After", str(exc.retry_after_s)))
        start_response(f"{code} {_REASONS.get(code, 'Error')}", headers)
        return [body]


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    yield from rest


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 411: "Length Required", 413: "Payload Too Large", 429: "Too Many Requests",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
