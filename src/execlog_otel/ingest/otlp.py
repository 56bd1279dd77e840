"""OTLP/HTTP trace requests -> ``otel_traces`` columns.

Protobuf bodies are decoded with ``opentelemetry-proto``; OTLP JSON bodies
(hex ids, integer enums, int64 as strings) with ``opentelemetry-proto-json``.
Both message families expose the same field names, so one walk over the
request feeds ``rows.SpanColumns``. Spans with invalid ids are rejected one by
one and reported through ``partial_success``; an undecodable body is rejected
whole, and nothing of it is written.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto_json.collector.trace.v1 import trace_service as trace_service_json

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


@dataclass
class Decoded:
    columns: SpanColumns
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


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
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise PayloadError(400, f"body is not valid {encoding}: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadError(413, f"decompressed body exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise PayloadError(400, f"body is not valid {encoding}: the data is truncated")
    return out


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _encodable(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode_request(body: bytes, content_type: str | None) -> Any:
    mt = media_type(content_type)
    if mt == PROTOBUF:
        msg = trace_service_pb2.ExportTraceServiceRequest()
        try:
            msg.ParseFromString(body)
        except (DecodeError, ValueError) as exc:
            raise PayloadError(400, f"body is not a valid OTLP protobuf ExportTraceServiceRequest: {exc}") from None
        return msg
    if mt == JSON:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PayloadError(400, f"body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise PayloadError(400, "body must be a JSON object with a resourceSpans list")
        if _SURROGATE_ESCAPE.search(body) and not _encodable(data):
            # json.loads joins escaped pairs; a lone half would fail at the insert, answered as a store error.
            raise PayloadError(400, "body contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff): "
                                    "send valid Unicode text")
        try:
            return trace_service_json.ExportTraceServiceRequest.from_dict(data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(400, f"body is not a valid OTLP JSON ExportTraceServiceRequest: {exc}") from None
    raise PayloadError(415, f"unsupported Content-Type {content_type or '(none)'!r}: "
                            f"use {PROTOBUF} or {JSON}")


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
_TRACE_ID_ZERO, _SPAN_ID_ZERO = bytes(16), bytes(8)


def _pb_attrs(kvs: Any) -> dict[str, str]:
    """``attrs`` for protobuf messages, whose values are always set (upb's C message objects)."""
    out: dict[str, str] = {}
    for kv in kvs:
        v = kv.value
        which = v.WhichOneof("value")
        if which == "string_value":
            out[kv.key] = v.string_value
        elif which == "int_value":
            out[kv.key] = str(v.int_value)
        else:
            out[kv.key] = value_text(v)
    return out


def _reject(out: Decoded, span: Any, tid: bytes, sid: bytes, pid: bytes) -> bool:
    """Count and explain a span with invalid ids; False when its ids are valid."""
    if len(tid) != 16 or tid == _TRACE_ID_ZERO:
        reason = "trace id must be 16 non-zero bytes"
    elif len(sid) != 8 or sid == _SPAN_ID_ZERO:
        reason = "span id must be 8 non-zero bytes"
    elif len(pid) not in (0, 8):
        reason = "parent span id must be empty or 8 bytes"
    else:
        return False
    out.rejected += 1
    out.errors.append(f"span {span.name!r}: {reason}")
    return True


def _pb_to_columns(request: Any, out: Decoded) -> Decoded:
    """``to_columns`` for a protobuf request: the values ``SpanColumns.add`` would store, appended
    directly, since this runs for every span ``execlog serve`` receives (benchmarks/otlp_ingest.py).
    Protobuf fields are never None (unset is the zero value), which the generic walk must allow for."""
    c = out.columns.columns
    kinds, statuses = len(PROTO_KIND), len(STATUS)
    for rs in request.resource_spans:
        res_attrs = _pb_attrs(rs.resource.attributes)
        service = res_attrs.get("service.name", "")
        for ss in rs.scope_spans:
            scope_name, scope_version = ss.scope.name, ss.scope.version
            for span in ss.spans:
                tid, sid, pid = span.trace_id, span.span_id, span.parent_span_id
                if (len(tid) != 16 or len(sid) != 8 or (pid and len(pid) != 8) or tid == _TRACE_ID_ZERO
                        or sid == _SPAN_ID_ZERO) and _reject(out, span, tid, sid, pid):
                    continue
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                kind = span.kind
                status = span.status
                code = status.code
                c[0].append(start)
                c[1].append(tid.hex())
                c[2].append(sid.hex())
                c[3].append(pid.hex())
                c[4].append(span.trace_state)
                c[5].append(span.name)
                c[6].append(PROTO_KIND[kind] if 0 <= kind < kinds else "Unspecified")
                c[7].append(service)
                c[8].append(res_attrs)
                c[9].append(scope_name)
                c[10].append(scope_version)
                c[11].append(_pb_attrs(span.attributes))
                c[12].append(max(end - start, 0) if end else 0)
                c[13].append(STATUS[code] if 0 <= code < statuses else "Unset")
                c[14].append(status.message)
                events = span.events
                if events:
                    c[15].append([e.time_unix_nano for e in events])
                    c[16].append([e.name for e in events])
                    c[17].append([_pb_attrs(e.attributes) for e in events])
                else:
                    c[15].append([])
                    c[16].append([])
                    c[17].append([])
                links = span.links
                if links:
                    c[18].append([lk.trace_id.hex() for lk in links])
                    c[19].append([lk.span_id.hex() for lk in links])
                    c[20].append([lk.trace_state for lk in links])
                    c[21].append([_pb_attrs(lk.attributes) for lk in links])
                else:
                    c[18].append([])
                    c[19].append([])
                    c[20].append([])
                    c[21].append([])
    return out


def to_columns(request: Any, columns: SpanColumns | None = None) -> Decoded:
    out = Decoded(columns if columns is not None else SpanColumns())
    if type(request) is _PB_REQUEST:
        with gc_paused():
            return _pb_to_columns(request, out)
    for rs in request.resource_spans:
        res_attrs = attrs(rs.resource.attributes) if rs.resource is not None else {}
        service = res_attrs.get("service.name", "")
        for ss in rs.scope_spans:
            scope = ss.scope
            scope_name = (scope.name or "") if scope is not None else ""
            scope_version = (scope.version or "") if scope is not None else ""
            for span in ss.spans:
                tid, sid, pid = span.trace_id or b"", span.span_id or b"", span.parent_span_id or b""
                if len(tid) != 16 or tid == bytes(16):
                    out.rejected += 1
                    out.errors.append(f"span {span.name!r}: trace id must be 16 non-zero bytes")
                    continue
                if len(sid) != 8 or sid == bytes(8):
                    out.rejected += 1
                    out.errors.append(f"span {span.name!r}: span id must be 8 non-zero bytes")
                    continue
                if len(pid) not in (0, 8):
                    out.rejected += 1
                    out.errors.append(f"span {span.name!r}: parent span id must be empty or 8 bytes")
                    continue
                kind = int(span.kind or 0)
                status = span.status
                code = int(status.code or 0) if status is not None else 0
                out.columns.add(
                    start_ns=int(span.start_time_unix_nano or 0),
                    end_ns=int(span.end_time_unix_nano or 0),
                    trace_id=tid.hex(),
                    span_id=sid.hex(),
                    parent_span_id=pid.hex(),
                    trace_state=span.trace_state or "",
                    name=span.name or "",
                    kind=PROTO_KIND[kind] if 0 <= kind < len(PROTO_KIND) else "Unspecified",
                    service_name=service,
                    resource=res_attrs,
                    scope_name=scope_name,
                    scope_version=scope_version,
                    attributes=attrs(span.attributes),
                    status_code=STATUS[code] if 0 <= code < len(STATUS) else "Unset",
                    status_message=(status.message or "") if status is not None else "",
                    events=((int(e.time_unix_nano or 0), e.name or "", attrs(e.attributes)) for e in span.events),
                    links=(((lk.trace_id or b"").hex(), (lk.span_id or b"").hex(), lk.trace_state or "",
                            attrs(lk.attributes)) for lk in span.links),
                )
    return out


def response_body(content_type: str, rejected: int = 0, message: str = "") -> tuple[bytes, str]:
    """An ExportTraceServiceResponse in the request's encoding."""
    if media_type(content_type) == JSON:
        body: dict[str, Any] = {}
        if rejected:
            body["partialSuccess"] = {"rejectedSpans": str(rejected), "errorMessage": message}
        return json.dumps(body).encode(), JSON
    resp = trace_service_pb2.ExportTraceServiceResponse()
    if rejected:
        resp.partial_success.rejected_spans = rejected
        resp.partial_success.error_message = message
    return resp.SerializeToString(), PROTOBUF


def error_body(content_type: str, status: int, message: str) -> tuple[bytes, str]:
    """A google.rpc.Status body (protobuf or JSON) carrying the message."""
    if media_type(content_type) == PROTOBUF:
        from google.rpc import status_pb2  # shipped with googleapis-common-protos, an OTLP exporter dependency

        grpc_code = {400: 3, 413: 8, 415: 3, 401: 16, 503: 14}.get(status, 2)
        return status_pb2.Status(code=grpc_code, message=message).SerializeToString(), PROTOBUF
    return json.dumps({"code": status, "message": message}).encode(), JSON


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)
