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
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto_json.collector.trace.v1 import trace_service as trace_service_json

from execlog_otel.store.rows import PROTO_KIND, STATUS, SpanColumns, format_float

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
    value = _any_value(v)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    from execlog_otel.store.rows import value_text as py_text

    return py_text(value)


_PB_ANY_VALUE = common_pb2.AnyValue


def attrs(kvs: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in kvs:
        v = kv.value
        # Protobuf strings and ints (nearly every attribute) directly: this runs for every attribute
        # of every received span (benchmarks/otlp_ingest.py); the rest through value_text.
        which = v.WhichOneof("value") if type(v) is _PB_ANY_VALUE else None
        if which == "string_value":
            out[kv.key] = v.string_value
        elif which == "int_value":
            out[kv.key] = str(v.int_value)
        else:
            out[kv.key] = value_text(v)
    return out


def to_columns(request: Any, columns: SpanColumns | None = None) -> Decoded:
    out = Decoded(columns if columns is not None else SpanColumns())
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
