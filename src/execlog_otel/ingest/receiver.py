"""OTLP/HTTP receiver: ``POST /v1/traces`` per the OTLP/HTTP specification.

Accepts ``application/x-protobuf`` and ``application/json`` bodies, optionally
gzip-compressed. Answers 200 with an ``ExportTraceServiceResponse`` once the
request's valid spans are durable in the write-ahead log (``partial_success``
names the spans rejected at decode and why: ids, timestamps, retention); 400
for undecodable payloads, 413 above the body or spans-per-request limit, 415
for other content types, and 503 when the spans cannot be made durable (so the
client retries). A request re-sent after its answer was lost (same body) is
acknowledged again without being stored twice.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request

from execlog_otel.ingest import otlp
from execlog_otel.ingest.caps import cap_columns
from execlog_otel.ingest.sink import SpanDataError, request_hash
from execlog_otel.retry.proof import unproven_claims
from execlog_otel.store.rows import SpanColumns
from execlog_otel.viewer.services import services
from execlog_otel.viewer.throttle import Refusal

log = logging.getLogger(__name__)

bp = Blueprint("ingest", __name__)


def _answer(status: int, content_type: str, message: str) -> Response:
    body, mt = otlp.error_body(content_type, status, message)
    return Response(body, status=status, content_type=mt)


def _refusal(settings: Any, content_type: str) -> Response | None:
    """401 without the ingest token, 413 for a declared body above the limit, 415 for other content types."""
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
    if otlp.media_type(content_type) not in (otlp.PROTOBUF, otlp.JSON):
        return _answer(415, content_type, f"unsupported Content-Type {content_type or '(none)'!r}: "
                                          f"use {otlp.PROTOBUF} or {otlp.JSON}")
    return None


def _decode(body: bytes, content_type: str, settings: Any) -> SpanColumns:
    """The request's spans, validated (ids, timestamps, retention) and capped; PayloadError when undecodable."""
    try:
        columns = otlp.to_columns(otlp.decode_request(body, content_type, settings.max_spans_per_request),
                                  SpanColumns(retention_days=services().retention_days))
    except RecursionError:
        raise otlp.PayloadError(400, "body is not valid OTLP: it is nested too deeply") from None
    cap_columns(columns, settings.max_attribute_bytes)
    unproven_claims(columns.columns, settings.retry_secret)  # forged retry_of claims: own executions
    return columns


@bp.post("/v1/traces")
def traces() -> Response:
    settings = current_app.config["EXECLOG_SETTINGS"]
    content_type = request.headers.get("Content-Type", "")
    refused = _refusal(settings, content_type)
    if refused is not None:
        return refused
    try:
        body = otlp.read_body(request.stream.read(settings.max_body_bytes + 1),
                              request.headers.get("Content-Encoding"), settings.max_body_bytes)
    except otlp.PayloadError as exc:
        return _answer(exc.status, content_type, exc.message)
    sink = services().sink
    digest = request_hash(body)
    if sink.seen(digest):
        body, mt = otlp.response_body(content_type)  # a re-send of a request already durable: stored once
        return Response(body, status=200, content_type=mt)
    try:
        columns = _decode(body, content_type, settings)
    except otlp.PayloadError as exc:
        sink.forget(digest)
        return _answer(exc.status, content_type, exc.message)
    del body
    try:
        sink.write(columns, digest)
    except SpanDataError as exc:
        return _answer(400, content_type, str(exc))
    except Exception as exc:  # noqa: BLE001 - tell the client to retry; keep serving
        log.error("could not accept %d spans: %s", len(columns), exc)
        return _answer(503, content_type, f"the spans could not be accepted right now: {exc}")
    if columns.rejected:
        log.info("rejected %d spans of a request: %s", columns.rejected, "; ".join(columns.errors[:3]))
    body, mt = otlp.response_body(content_type, columns.rejected, "; ".join(columns.errors[:5]))
    return Response(body, status=200, content_type=mt)
