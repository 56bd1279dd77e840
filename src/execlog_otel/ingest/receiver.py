"""OTLP/HTTP receiver: ``POST /v1/traces`` per the OTLP/HTTP specification.

Accepts ``application/x-protobuf`` and ``application/json`` bodies, optionally gzip-compressed. Answers 200
with an ``ExportTraceServiceResponse`` once the request's valid spans are durable in the write-ahead log
(``partial_success`` names the spans rejected at decode and why: ids, timestamps, retention; and text that
was not UTF-8, stored repaired: ``ingest.utf8``); 400 for undecodable payloads, 413 above the body or
spans-per-request limit, 415 for other content types, and 503 when the spans cannot be made durable (so the
client retries). A request re-sent after its answer was lost (same body) is acknowledged again without being
stored twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, request
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from execlog_otel.ingest import acceptance, otlp, otlp_logs, otlp_metrics, utf8
from execlog_otel.ingest.sink import SpanDataError, request_hash
from execlog_otel.ingest.wal import NO_HASH, WalError
from execlog_otel.store.rows import Refusals, SpanColumns
from execlog_otel.viewer.services import services

log = logging.getLogger(__name__)

bp = Blueprint("ingest", __name__)
T = TypeVar("T")


def _answer(status: int, content_type: str, message: str) -> Response:
    body, mt = otlp.error_body(content_type, status, message)
    return Response(body, status=status, content_type=mt)


def _refusal(settings: Any, content_type: str) -> Response | None:
    """401 without an ingest token, 413 for a declared body above the limit, 415 for other content types.

    The ingest tokens are EXECLOG_INGEST_TOKEN and those of EXECLOG_AUTH_FILE (``viewer.people``); the project
    a token is bound to is kept in ``g.execlog_ingest_project`` for ``_acceptance``."""
    people = current_app.extensions["execlog_people"]
    g.execlog_ingest_project = None
    if people.ingest_required:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        guesses = current_app.extensions["execlog_guesses"]
        address = request.remote_addr or ""
        refusal = guesses.check(address)
        if refusal:  # guessing: limited like the viewer's token (viewer.throttle)
            resp = _answer(429, content_type, refusal.message)
            resp.headers["Retry-After"] = str(refusal.retry_after_s)
            return resp
        token = people.ingest_token(given)
        if token is None:
            guesses.failed(address)
            return _answer(401, content_type, "missing or wrong ingest token: send 'Authorization: Bearer <token>'")
        g.execlog_ingest_project = token.project
    limit = settings.max_body_bytes
    declared = request.content_length
    if declared is not None and declared > limit:
        return _answer(413, content_type, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    if otlp.media_type(content_type) not in (otlp.PROTOBUF, otlp.JSON):
        return _answer(415, content_type, f"unsupported Content-Type {content_type or '(none)'!r}: "
                                          f"use {otlp.PROTOBUF} or {otlp.JSON}")
    return None


def _foreign_traces(message: Any, project: str) -> tuple[str, ...]:
    """The traces of a request (spans or log records) that another project's executions hold: a token bound to
    ``project`` may not write into them (none without a project)."""
    if not project:
        return ()
    try:
        return tuple(services().reads.foreign_traces(otlp.trace_ids(message), project))
    except Exception as exc:  # noqa: BLE001 - the store is out: the log keeps taking requests (unchecked)
        log.warning("accepting data of project %s without checking whose traces it is in: %s", project, exc)
        return ()


def _acceptance(settings: Any, message: Any) -> acceptance.Acceptance:
    """The request's acceptance: the project of its token, and the traces that token may not write into."""
    project = g.get("execlog_ingest_project") or ""
    return acceptance.Acceptance(time.time_ns(), services().retention_days, project, settings.max_attribute_bytes,
                                 _foreign_traces(message, project))


def _decode(body: bytes, content_type: str, settings: Any,
            deferred: bool) -> tuple[Any, acceptance.Acceptance, SpanColumns]:
    """The request's message, its acceptance, and its rows; ``deferred``: only the check of its spans (rejected
    ones counted, no rows: the log's converter builds them, and the answer does not wait for that)."""
    try:
        refused: list[tuple[str, str]] = []  # spans of a JSON request that do not decode (never deferred)
        message = otlp.decode_request(body, content_type, settings.max_spans_per_request, refused)
        accepted = _acceptance(settings, message)
        if deferred:
            return message, accepted, acceptance.check(message, accepted)
        columns = acceptance.columns(message, accepted, settings.retry_secret)
        for name, why in refused:
            columns.reject(name, why)
        return message, accepted, columns
    except RecursionError:
        raise otlp.PayloadError(400, "body is not valid OTLP: it is nested too deeply") from None


def _decoded(decode: Callable[[bytes], T], body: bytes, message_class: Any) -> tuple[T, bytes, str]:
    """``decode(body)``; a protobuf body whose only fault is text that is not UTF-8 is decoded repaired
    (``ingest.utf8``): (the result, the body it came from, a note for the answer or "")."""
    try:
        return decode(body), body, ""
    except otlp.NotUtf8:
        if (fixed := utf8.repair(body, message_class)) is None:
            raise
    body, repaired = fixed
    log.info("repaired %d text fields of a request that were not UTF-8", repaired)
    return decode(body), body, utf8.warning(repaired)


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
    try:
        if sink.seen(digest):
            body, mt = otlp.response_body(content_type)  # a re-send of a request already durable: stored once
            return Response(body, status=200, content_type=mt)
    except WalError as exc:  # an earlier copy is still being stored
        return _answer(503, content_type, str(exc))
    try:  # the claim on the request's hash ends with this request, whatever happens (else re-sends got 200)
        deferred = sink.keeps_requests and otlp.media_type(content_type) == otlp.PROTOBUF
        try:
            (message, accepted, columns), body, note = _decoded(
                lambda b: _decode(b, content_type, settings, deferred), body,
                trace_service_pb2.ExportTraceServiceRequest)
        except otlp.PayloadError as exc:
            return _answer(exc.status, content_type, exc.message)
        kept = otlp.span_count(message) - columns.rejected if deferred else len(columns)
        try:
            if deferred:
                sink.write_request(accepted, body, kept, digest)
            else:
                sink.write(columns, digest)
        except SpanDataError as exc:
            return _answer(400, content_type, str(exc))
        except Exception as exc:  # noqa: BLE001 - tell the client to retry; keep serving
            log.error("could not accept %d spans: %s", kept, exc)
            return _answer(503, content_type, f"the spans could not be accepted right now: {exc}")
    finally:
        sink.forget(digest)
    if columns.rejected:
        log.info("rejected %d spans of a request: %s", columns.rejected, "; ".join(columns.errors[:3]))
    notes = ([note] if note else []) + columns.errors[:5]
    body, mt = otlp.response_body(content_type, columns.rejected, "; ".join(notes))
    return Response(body, status=200, content_type=mt)


def _read(settings: Any, content_type: str) -> bytes | Response:
    """The request body after the checks every OTLP route shares (token, size, type, encoding)."""
    refused = _refusal(settings, content_type)
    if refused is not None:
        return refused
    try:
        return otlp.read_body(request.stream.read(settings.max_body_bytes + 1),
                              request.headers.get("Content-Encoding"), settings.max_body_bytes)
    except otlp.PayloadError as exc:
        return _answer(exc.status, content_type, exc.message)


def _accept_tables(tables: list[tuple[str, list[str], list[list[Any]]]], digest: bytes, content_type: str,
                   what: str) -> Response | None:
    """Rows of several tables made durable (the request's hash goes with the last, so a re-send after a
    crash is recognised once all of it is in the log); an error answer, or None when accepted."""
    sink = services().sink
    filled = [(t, names, cols) for t, names, cols in tables if cols and cols[0]]
    if not filled:
        return None
    try:
        for i, (table, names, cols) in enumerate(filled):
            sink.append(table, names, cols, len(cols[0]), digest if i == len(filled) - 1 else NO_HASH)
    except SpanDataError as exc:
        return _answer(400, content_type, str(exc).replace("spans", what))
    except Exception as exc:  # noqa: BLE001 - tell the client to retry; keep serving
        log.error("could not accept %s: %s", what, exc)
        return _answer(503, content_type, f"the {what} could not be accepted right now: {exc}")
    return None


def _signal(decode: Any, to_tables: Any, response: Any, what: str, message_class: Any) -> Response:
    """POST /v1/logs and /v1/metrics: the checks, limits and durability of /v1/traces for another signal."""
    settings = current_app.config["EXECLOG_SETTINGS"]
    content_type = request.headers.get("Content-Type", "")
    body = _read(settings, content_type)
    if isinstance(body, Response):
        return body
    sink = services().sink
    digest = request_hash(body)
    try:
        duplicate = sink.seen(digest)
    except WalError as exc:  # an earlier copy is still being stored
        return _answer(503, content_type, str(exc))
    refusals, note = Refusals(), ""
    if not duplicate:
        try:  # the claim ends with this request, whatever happens (a failed table kept it: re-sends got 200)
            try:
                refused: list[tuple[int, str]] = []  # records of a JSON request that do not decode: (items, why)
                message, _, note = _decoded(lambda b: decode(b, content_type, settings.max_spans_per_request,
                                                             refused), body, message_class)
                tables, refusals = to_tables(message)
                for items, why in refused:
                    refusals.add(why, items)
            except otlp.PayloadError as exc:
                return _answer(exc.status, content_type, exc.message)
            except RecursionError:
                return _answer(400, content_type, "body is not valid OTLP: it is nested too deeply")
            refused = _accept_tables(tables, digest, content_type, what)
            if refused is not None:
                return refused
        finally:
            sink.forget(digest)
    if refusals.count:
        log.info("rejected %d %s of a request: %s", refusals.count, what, "; ".join(refusals.reasons[:3]))
    notes = ([note] if note else []) + refusals.reasons[:5]
    out, mt = otlp.response_body(content_type, refusals.count, "; ".join(notes), response=response)
    return Response(out, status=200, content_type=mt)


@bp.post("/v1/logs")
def logs() -> Response:
    def to_tables(message: Any) -> tuple[list[Any], Refusals]:
        project = g.get("execlog_ingest_project") or ""  # as spans: the token's project, not another's traces
        rows = otlp_logs.to_columns(message, project, _foreign_traces(message, project))
        return [(otlp_logs.TABLE, otlp_logs.COLUMNS, rows.columns)], rows.refused

    return _signal(otlp_logs.decode, to_tables, otlp_logs.RESPONSE, "log records", otlp_logs.REQUEST)


@bp.post("/v1/metrics")
def metrics() -> Response:
    def to_tables(message: Any) -> tuple[list[Any], Refusals]:
        points = otlp_metrics.to_columns(message)
        return [(t, otlp_metrics.columns_of(t), cols) for t, cols in points.tables.items()], points.refused

    return _signal(otlp_metrics.decode, to_tables, otlp_metrics.RESPONSE, "metric points", otlp_metrics.REQUEST)
