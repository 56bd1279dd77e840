"""OTLP/HTTP trace requests -> ``otel_traces`` columns.

Protobuf bodies are decoded with ``opentelemetry-proto``; OTLP JSON bodies
(hex ids, integer enums, int64 as strings) with ``opentelemetry-proto-json``.
Both message families expose the same field names; each has one walk that
hands every span to ``rows.SpanColumns.add_row`` (the one span -> row mapping,
which validates ids and timestamps). Invalid spans are rejected one by one and
reported through ``partial_success``; an undecodable body is rejected whole,
and nothing of it is written. Decoding is bounded: a request carrying more
spans than ``EXECLOG_MAX_SPANS_PER_REQUEST`` is refused with 413 before its
rows are built, and nesting too deep to decode is a 400.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.proto_json.collector.trace.v1 import trace_service as trace_service_json
from opentelemetry.proto_json.trace.v1 import trace as trace_json

from execlog_otel.ingest import otlp_json
from execlog_otel.store import rows
from execlog_otel.store.rows import PROTO_KIND, STATUS, SpanColumns, gc_paused

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class PayloadError(ValueError):
    """The request cannot be accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding, refusing bodies (and gzip bombs) larger than ``limit`` bytes."""
    if len(raw) > limit:
        raise PayloadError(413, f"request body of {len(raw)} bytes exceeds the limit of {limit} bytes")
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return raw
    if encoding not in ("gzip", "deflate"):
        raise PayloadError(415, f"unsupported Content-Encoding {encoding!r}: use gzip or none")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    parts: list[bytes] = []
    size = 0
    # A gzip body may hold several members (concatenated files, pigz, streaming compressors): each is
    # inflated, under one limit for them all; only the first was read before, the rest dropped unsaid.
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            part = inflater.decompress(raw, limit + 1 - size)
        except zlib.error as exc:
            raise PayloadError(400, f"body is not valid {encoding}: {exc}") from None
        size += len(part)
        parts.append(part)
        if size > limit or inflater.unconsumed_tail:
            raise PayloadError(413, f"decompressed body exceeds the limit of {limit} bytes")
        if not inflater.eof:
            raise PayloadError(400, f"body is not valid {encoding}: the data is truncated")
        raw = inflater.unused_data
        if encoding != "gzip" or not raw:
            break
    return b"".join(parts)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_many(spans: int, limit: int) -> PayloadError:
    return PayloadError(413, f"the request carries {spans} spans, more than the limit of {limit} spans per request "
                             "(EXECLOG_MAX_SPANS_PER_REQUEST): send smaller batches")


def span_count(request: Any) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def trace_ids(request: Any) -> list[str]:
    """The traces a request's spans (or log records: ``resource_logs``) belong to, each once."""
    if hasattr(request, "resource_spans"):
        ids = {span.trace_id for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans}
    else:
        ids = {rec.trace_id for rl in request.resource_logs for sl in rl.scope_logs for rec in sl.log_records}
    return sorted(i.hex() for i in ids if i)


def decode_request(body: bytes, content_type: str | None, max_spans: int = 0,
                   refused: list[tuple[str, str]] | None = None) -> Any:
    """The request message; ``max_spans`` > 0 refuses (413) requests with more spans, before any row is built.
    Given ``refused``, the spans of an OTLP JSON request that do not decode are left out and noted there (their
    name, why), the rest decoded; without it such a request is refused whole (400)."""
    mt = media_type(content_type)
    if mt == PROTOBUF:
        request = _decode_protobuf(body)
    elif mt == JSON:
        request = _decode_json(body, max_spans, refused)
    else:
        raise PayloadError(415, f"unsupported Content-Type {content_type or '(none)'!r}: use {PROTOBUF} or {JSON}")
    if max_spans and (n := span_count(request)) > max_spans:
        raise _too_many(n, max_spans)
    return request


def _decode_protobuf(body: bytes) -> Any:
    msg = trace_service_pb2.ExportTraceServiceRequest()
    try:
        msg.ParseFromString(body)
    except (DecodeError, ValueError, RecursionError) as exc:
        raise protobuf_error("ExportTraceServiceRequest", exc) from None
    return msg


class NotUtf8(PayloadError):
    """A protobuf body refused only for a string field that is not UTF-8 (``ingest.utf8`` repairs it)."""


def protobuf_error(message_name: str, exc: BaseException) -> PayloadError:
    """The 400 of a protobuf body ``message_name`` could not parse from; NotUtf8 when text was the fault (upb
    says "bad UTF-8"; the pure-Python parser raises UnicodeDecodeError)."""
    text = f"body is not a valid OTLP protobuf {message_name}: {exc}"
    if isinstance(exc, UnicodeDecodeError) or "UTF-8" in str(exc):
        return NotUtf8(400, text)
    return PayloadError(400, text)


_TOO_DEEP = "body is not valid OTLP JSON: it is nested too deeply"


# OTLP/JSON names fields in lowerCamelCase; protobuf's own JSON parsers (hence /v1/logs and /v1/metrics here)
# also take the proto field names (resource_spans, span_id). The traces' faster decoder ignored those as
# unknown fields, so such a request was answered 200 and nothing was stored: its keys are renamed first.
_PROTO_FIELD_NAME = re.compile(rb'"(?:resource_spans|scope_spans|trace_id|span_id|start_time_unix_nano)"')


def _json_object(body: bytes, max_spans: int) -> dict[str, Any]:
    # Each span has one "spanId" key: counted in the raw bytes, a span bomb is refused before json.loads
    # builds its objects (links carry spanId too, so this overcounts only requests near the limit).
    if max_spans and (n := body.count(b'"spanId"')) > max_spans:
        raise _too_many(n, max_spans)
    try:
        data = json.loads(body)
    except RecursionError:
        raise PayloadError(400, _TOO_DEEP) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError(400, "body must be a JSON object with a resourceSpans list")
    return otlp_json.camel_keys(data) if _PROTO_FIELD_NAME.search(body) else data


def _request_from(data: dict[str, Any]) -> Any:
    try:
        return trace_service_json.ExportTraceServiceRequest.from_dict(data)
    except RecursionError:
        raise PayloadError(400, _TOO_DEEP) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(400, f"body is not a valid OTLP JSON ExportTraceServiceRequest: {exc}") from None


def _decode_json(body: bytes, max_spans: int, refused: list[tuple[str, str]] | None) -> Any:
    data = _json_object(body, max_spans)
    if not _SURROGATE_ESCAPE.search(body) or _encodable(data):
        try:
            return _request_from(data)
        except PayloadError as exc:
            if refused is None or exc.message == _TOO_DEEP:
                raise
    # The slow path, for a request something in it does not decode: enum names and out-of-range enum
    # values are read as protobuf reads them, and a span that still does not decode is refused alone (in
    # partial_success, ``refused``) instead of the whole request with it.
    if refused is not None:
        _isolate_spans(data, refused)
    if not _encodable(data):
        # json.loads joins escaped pairs; a lone half would fail at the insert, answered as a store error.
        raise PayloadError(400, "body contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff): "
                                "send valid Unicode text")
    return _request_from(data)


# Enums of a span as protobuf's JSON mapping writes them (names) and reads them (names or numbers; a number
# it does not know is kept, and mapped to Unspecified / Unset as a protobuf request's would be).
_SPAN_KIND = dict(trace_pb2.Span.SpanKind.items())
_STATUS_CODE = dict(trace_pb2.Status.StatusCode.items())


def _enum(value: Any, names: dict[str, int]) -> Any:
    if isinstance(value, str):
        value = int(value) if value.isdigit() else names.get(value, value)
    if isinstance(value, int) and value not in names.values():
        return 0
    return value


def _isolate_spans(data: dict[str, Any], refused: list[tuple[str, str]]) -> None:
    """Read the spans' enums as protobuf does, and take out of ``data`` each span that does not decode, noted
    in ``refused`` as (its name, why)."""
    otlp_json.keep_records(data, "resourceSpans", "scopeSpans", "spans", lambda span: _span_decodes(span, refused))


def _span_decodes(span: Any, refused: list[tuple[str, str]]) -> bool:
    if not isinstance(span, dict):
        refused.append(("", f"not valid OTLP JSON: a span is {type(span).__name__}, not an object"))
        return False
    name = span.get("name")
    name = name if isinstance(name, str) else ""
    try:
        if "kind" in span:
            span["kind"] = _enum(span["kind"], _SPAN_KIND)
        if isinstance(span.get("status"), dict) and "code" in span["status"]:
            span["status"]["code"] = _enum(span["status"]["code"], _STATUS_CODE)
        trace_json.Span.from_dict(span)
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        refused.append((name, f"not valid OTLP JSON: {str(exc)[:200]}"))
        return False
    if not _encodable(span):
        refused.append((name, "holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)"))
        return False
    return True


def _any_value(v: Any) -> Any:
    """The Python value of an AnyValue from either message family."""
    if v is None:
        return None
    which = v.WhichOneof("value") if hasattr(v, "WhichOneof") else None
    if which is None and not hasattr(v, "WhichOneof"):
        for name in ("string_value", "bool_value", "int_value", "double_value", "array_value",
                     "kvlist_value", "bytes_value"):
            if getattr(v, name, None) is not None:
                which = name
                break
    if which is None:
        return None
    value = getattr(v, which)
    if which == "array_value":
        return [_any_value(x) for x in value.values]
    if which == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.values}
    return value


def value_text(v: Any) -> str:
    """An AnyValue as the exporter stores it: the same text rules as the SDK path (``rows.value_text``)."""
    return rows.value_text(_any_value(v))


def attrs(kvs: Any) -> dict[str, str]:
    """Attributes of an OTLP JSON message (``_pb_attrs`` is the protobuf fast path)."""
    return {kv.key: value_text(kv.value) for kv in kvs}


_PB_REQUEST = trace_service_pb2.ExportTraceServiceRequest


def _pb_other(v: Any) -> str:
    """A protobuf AnyValue that is not a non-empty string, as text."""
    which = v.WhichOneof("value")
    if which == "string_value":
        return ""
    if which == "int_value":
        return str(v.int_value)
    return value_text(v)


def _pb_attrs(kvs: Any) -> dict[str, str]:
    """``attrs`` for protobuf messages, whose values are always set (upb's C message objects). Most values
    are non-empty strings: those cost one field read (every read of a upb field builds an object)."""
    out: dict[str, str] = {}
    for kv in kvs:
        v = kv.value
        out[kv.key] = v.string_value or _pb_other(v)
    return out


def _pb_to_columns(request: Any, out: SpanColumns) -> None:
    """Protobuf requests: fields are never None (unset is the zero value), read directly (this runs for every
    span ``execlog serve`` receives)."""
    add = out.add_row
    kinds, statuses = len(PROTO_KIND), len(STATUS)
    for rs in request.resource_spans:
        res_attrs = _pb_attrs(rs.resource.attributes)
        service = res_attrs.get("service.name", "")
        for ss in rs.scope_spans:
            scope_name, scope_version = ss.scope.name, ss.scope.version
            for span in ss.spans:
                kind = span.kind
                status = span.status
                code = status.code
                events = span.events
                links = span.links
                add(span.start_time_unix_nano, span.end_time_unix_nano, span.trace_id.hex(), span.span_id.hex(),
                    span.parent_span_id.hex(), span.trace_state, span.name,
                    PROTO_KIND[kind] if 0 <= kind < kinds else "Unspecified", service, res_attrs, scope_name,
                    scope_version, _pb_attrs(span.attributes), STATUS[code] if 0 <= code < statuses else "Unset",
                    status.message,
                    [e.time_unix_nano for e in events] if events else [],
                    [e.name for e in events] if events else [],
                    [_pb_attrs(e.attributes) for e in events] if events else [],
                    [lk.trace_id.hex() for lk in links] if links else [],
                    [lk.span_id.hex() for lk in links] if links else [],
                    [lk.trace_state for lk in links] if links else [],
                    [_pb_attrs(lk.attributes) for lk in links] if links else [])


def _json_to_columns(request: Any, out: SpanColumns) -> None:
    """OTLP JSON requests: any field may be None."""
    for rs in request.resource_spans:
        res_attrs = attrs(rs.resource.attributes) if rs.resource is not None else {}
        service = res_attrs.get("service.name", "")
        for ss in rs.scope_spans:
            scope = ss.scope
            scope_name = (scope.name or "") if scope is not None else ""
            scope_version = (scope.version or "") if scope is not None else ""
            for span in ss.spans:
                kind = int(span.kind or 0)
                status = span.status
                code = int(status.code or 0) if status is not None else 0
                events, links = span.events or [], span.links or []
                out.add_row(
                    int(span.start_time_unix_nano or 0), int(span.end_time_unix_nano or 0),
                    (span.trace_id or b"").hex(), (span.span_id or b"").hex(), (span.parent_span_id or b"").hex(),
                    span.trace_state or "", span.name or "",
                    PROTO_KIND[kind] if 0 <= kind < len(PROTO_KIND) else "Unspecified", service, res_attrs,
                    scope_name, scope_version, attrs(span.attributes),
                    STATUS[code] if 0 <= code < len(STATUS) else "Unset",
                    (status.message or "") if status is not None else "",
                    [int(e.time_unix_nano or 0) for e in events], [e.name or "" for e in events],
                    [attrs(e.attributes) for e in events], [(lk.trace_id or b"").hex() for lk in links],
                    [(lk.span_id or b"").hex() for lk in links], [lk.trace_state or "" for lk in links],
                    [attrs(lk.attributes) for lk in links])


def to_columns(request: Any, columns: SpanColumns | None = None) -> SpanColumns:
    """Every span of ``request`` through the one mapping; rejected spans are counted in the result."""
    out = columns if columns is not None else SpanColumns()
    with gc_paused():
        if type(request) is _PB_REQUEST:
            _pb_to_columns(request, out)
        else:
            _json_to_columns(request, out)
    return out


def append_row(columns: list[list[Any]], row: list[Any] | tuple[Any, ...]) -> None:
    """Append one row to column-oriented lists (the log and metric mappings build rows whole)."""
    for column, value in zip(columns, row, strict=True):
        column.append(value)


def response_body(content_type: str, rejected: int = 0, message: str = "",
                  response: Any = trace_service_pb2.ExportTraceServiceResponse) -> tuple[bytes, str]:
    """An Export*ServiceResponse (``response``: the signal's message class) in the request's encoding;
    ``rejected`` goes to its partial_success (rejected spans, log records or data points) with ``message``. A
    message with nothing rejected is a warning (OTLP: rejected 0, the message non-empty)."""
    resp = response()
    field = next(f for f in resp.partial_success.DESCRIPTOR.fields if f.name.startswith("rejected_"))
    if rejected or message:
        setattr(resp.partial_success, field.name, rejected)
        resp.partial_success.error_message = message
    if media_type(content_type) == JSON:
        body: dict[str, Any] = {}
        if rejected or message:
            body["partialSuccess"] = {field.json_name: str(rejected), "errorMessage": message}
        return json.dumps(body).encode(), JSON
    return resp.SerializeToString(), PROTOBUF


def error_body(content_type: str, status: int, message: str) -> tuple[bytes, str]:
    """A google.rpc.Status body (protobuf or JSON) carrying the message."""
    if media_type(content_type) == PROTOBUF:
        from google.rpc import status_pb2  # shipped with googleapis-common-protos, an OTLP exporter dependency

        grpc_code = {400: 3, 413: 8, 415: 3, 401: 16, 503: 14}.get(status, 2)
        return status_pb2.Status(code=grpc_code, message=message).SerializeToString(), PROTOBUF
    return json.dumps({"code": status, "message": message}).encode(), JSON
