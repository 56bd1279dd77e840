"""OTLP/HTTP receiver: ``POST /v1/traces`` per the OTLP/HTTP specification.

Accepts ``application/x-protobuf`` and ``application/json`` bodies, optionally
gzip-compressed; answers 200 with an ``ExportTraceServiceResponse`` (with
``partial_success`` when some spans were rejected), 400 for undecodable
payloads, 413 above the body limit, 415 for other content types, and 503 when
the store refuses the write (so the client retries). A request is written in
one insert or not at all.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from execlog_otel.ingest import otlp
from execlog_otel.ingest.caps import cap_columns
from execlog_otel.ingest.sink import SpanDataError
from execlog_otel.retry.proof import unproven_claims
from execlog_otel.viewer.services import services
from execlog_otel.viewer.throttle import Refusal

log = logging.getLogger(__name__)

bp = Blueprint("ingest", __name__)


def _answer(status: int, content_type: str, message: str) -> Response:
    body, mt = otlp.error_body(content_type, status, message)
    return Response(body, status=status, content_type=mt)


@bp.post("/v1/traces")
def traces() -> Response:
    settings = current_app.config["EXECLOG_SETTINGS"]
    content_type = request.headers.get("Content-Type", "")
    token = settings.ingest_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        ok = current_app.extensions["execlog_guesses"].bearer(token, given, request.remote_addr or "")
        if isinstance(ok, Refusal):  # guessing: limited like the viewer's token (viewer.throttle)
            resp = _answer(429, content_type, ok.message)
            resp.headers["Retry-After"] = str(ok.retry_after_s)
            return resp
        if not ok:
            return _answer(401, content_type, "missing or wrong ingest token: send 'Authorization: Bearer <token>'")
    limit = settings.max_body_bytes
    declared = request.content_length
    if declared is not None and declared > limit:
        return _answer(413, content_type, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    try:
        if otlp.media_type(content_type) not in (otlp.PROTOBUF, otlp.JSON):
            raise otlp.PayloadError(415, f"unsupported Content-Type {content_type or '(none)'!r}: "
                                         f"use {otlp.PROTOBUF} or {otlp.JSON}")
        raw = request.stream.read(limit + 1)
        body = otlp.read_body(raw, request.headers.get("Content-Encoding"), limit)
        decoded = otlp.to_columns(otlp.decode_request(body, content_type))
    except otlp.PayloadError as exc:
        return _answer(exc.status, content_type, exc.message)
    cap_columns(decoded.columns.columns, settings.max_attribute_bytes)
    unproven_claims(decoded.columns.columns, settings.retry_secret)  # forged retry_of claims: own executions
    sink = services().sink
    try:
        sink.write(decoded.columns)
    except SpanDataError as exc:
        return _answer(400, content_type, str(exc))
    except Exception as exc:  # noqa: BLE001 - tell the client to retry; keep serving
        log.error("could not store %d spans: %s", len(decoded.columns), exc)
        return _answer(503, content_type, f"the store could not accept the spans right now: {exc}")
    message = "; ".join(decoded.errors[:5])
    body, mt = otlp.response_body(content_type, decoded.rejected, message)
    return Response(body, status=200, content_type=mt)
