"""Span -> ``otel_traces`` row, exactly as the Collector's clickhouse exporter writes it.

One mapping serves the direct exporter (SDK ``ReadableSpan``) and the OTLP
receiver (protobuf ``Span``): both adapters feed ``SpanColumns.add`` with ids
as lowercase hex, kind and status as the exporter's strings, attribute values
as text (ints, floats and bools as literals, sequences and maps as JSON, bytes
as base64), and Duration in nanoseconds. Rows are kept column-oriented so the
insert needs no transposition.
"""

from __future__ import annotations

import base64
import gc
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

COLUMNS: list[str] = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode",
    "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId",
    "Links.TraceState", "Links.Attributes",
]

# SDK SpanKind value -> exporter string (SDK INTERNAL=0 .. CONSUMER=4)
SDK_KIND = ("Internal", "Server", "Client", "Producer", "Consumer")
# OTLP protobuf SpanKind value -> exporter string
PROTO_KIND = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
# SDK StatusCode value and OTLP status code share numbering: UNSET=0, OK=1, ERROR=2
STATUS = ("Unset", "Ok", "Error")


def format_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, no exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return format_float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def value_text(value: Any) -> str:
    """An attribute value as the exporter stores it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if value is None:
        return ""
    if isinstance(value, (Mapping, Sequence)):
        return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)
    return str(value)


def attr_map(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    if not attributes:
        return {}
    # BoundedAttributes (what the SDK keeps) is a Mapping whose items() go through the ABC's
    # __iter__/__getitem__, a third of the per-span cost; its plain dict gives the same items.
    plain = getattr(attributes, "_dict", None)
    items = plain.items() if type(plain) is dict else attributes.items()
    return {k: v if type(v) is str else value_text(v) for k, v in items}


def _span_attributes(span: Any) -> dict[str, str]:
    """A ReadableSpan's attributes: ``span.attributes`` wraps them in a mappingproxy, which hides the
    plain dict ``attr_map`` reads; the proxied mapping itself is read when the SDK keeps one."""
    raw = getattr(span, "_attributes", None)
    return attr_map(raw if raw is not None and isinstance(raw, Mapping) else span.attributes)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch's rows are built or serialised.

    A batch allocates hundreds of thousands of small dicts and lists, none of them cyclic; each
    700 allocations start a collection pass, and now and then a full one over the whole heap (the
    spans included), which measured 10-70 µs per span in the exporter benchmark. The rows are freed
    by reference counting either way; collection resumes (if it was on) when the batch is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def hex_trace_id(value: int) -> str:
    return format(value, "032x")


def hex_span_id(value: int) -> str:
    return format(value, "016x")


class SpanColumns:
    """Column-oriented rows for ``otel_traces``; ``columns`` is ready for a column insert."""

    __slots__ = ("columns",)

    def __init__(self) -> None:
        self.columns: list[list[Any]] = [[] for _ in COLUMNS]

    def __len__(self) -> int:
        return len(self.columns[0])

    def add(self, *, start_ns: int, end_ns: int, trace_id: str, span_id: str, parent_span_id: str,
            trace_state: str, name: str, kind: str, service_name: str, resource: dict[str, str],
            scope_name: str, scope_version: str, attributes: dict[str, str], status_code: str,
            status_message: str, events: Iterable[tuple[int, str, dict[str, str]]] = (),
            links: Iterable[tuple[str, str, str, dict[str, str]]] = ()) -> None:
        c = self.columns
        c[0].append(start_ns)
        c[1].append(trace_id)
        c[2].append(span_id)
        c[3].append(parent_span_id)
        c[4].append(trace_state)
        c[5].append(name)
        c[6].append(kind)
        c[7].append(service_name)
        c[8].append(resource)
        c[9].append(scope_name)
        c[10].append(scope_version)
        c[11].append(attributes)
        c[12].append(max(end_ns - start_ns, 0) if end_ns else 0)
        c[13].append(status_code)
        c[14].append(status_message)
        ev_ts, ev_name, ev_attr = [], [], []
        for ts, ev, attrs in events:
            ev_ts.append(ts)
            ev_name.append(ev)
            ev_attr.append(attrs)
        c[15].append(ev_ts)
        c[16].append(ev_name)
        c[17].append(ev_attr)
        l_tid, l_sid, l_ts, l_attr = [], [], [], []
        for tid, sid, ts, attrs in links:
            l_tid.append(tid)
            l_sid.append(sid)
            l_ts.append(ts)
            l_attr.append(attrs)
        c[18].append(l_tid)
        c[19].append(l_sid)
        c[20].append(l_ts)
        c[21].append(l_attr)

    # --- adapters -------------------------------------------------------------
    def add_readable_span(self, span: Any, resource_cache: dict[int, tuple[dict[str, str], str]]) -> None:
        """Add an SDK ``ReadableSpan``: the values ``add`` would store, appended directly, since this
        runs for every span the exporter writes (benchmarks/exporter_throughput.py)."""
        ctx = span.context
        res = span.resource
        cached = resource_cache.get(id(res))
        if cached is None:
            res_attrs = attr_map(res.attributes if res is not None else None)
            cached = (res_attrs, res_attrs.get("service.name", ""))
            resource_cache[id(res)] = cached
        scope = span.instrumentation_scope
        parent = span.parent
        status = span.status
        start = span.start_time or 0
        end = span.end_time or 0
        c = self.columns
        c[0].append(start)
        c[1].append(format(ctx.trace_id, "032x"))
        c[2].append(format(ctx.span_id, "016x"))
        c[3].append(format(parent.span_id, "016x") if parent is not None else "")
        c[4].append(ctx.trace_state.to_header() if ctx.trace_state else "")
        c[5].append(span.name)
        c[6].append(SDK_KIND[span.kind.value])
        c[7].append(cached[1])
        c[8].append(cached[0])
        c[9].append(scope.name if scope is not None else "")
        c[10].append((scope.version or "") if scope is not None else "")
        c[11].append(_span_attributes(span))
        c[12].append(max(end - start, 0) if end else 0)
        c[13].append(STATUS[status.status_code.value])
        c[14].append(status.description or "")
        events = span.events
        c[15].append([e.timestamp for e in events] if events else [])
        c[16].append([e.name for e in events] if events else [])
        c[17].append([attr_map(e.attributes) for e in events] if events else [])
        links = span.links
        if links:
            c[18].append([hex_trace_id(lk.context.trace_id) for lk in links])
            c[19].append([hex_span_id(lk.context.span_id) for lk in links])
            c[20].append([lk.context.trace_state.to_header() if lk.context.trace_state else "" for lk in links])
            c[21].append([attr_map(lk.attributes) for lk in links])
        else:
            c[18].append([])
            c[19].append([])
            c[20].append([])
            c[21].append([])
