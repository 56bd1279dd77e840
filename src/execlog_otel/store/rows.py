"""Span -> ``otel_traces`` row, exactly as the Collector's clickhouse exporter writes it.

One mapping, ``SpanColumns.add_row``, serves the direct exporter (SDK ``ReadableSpan``, via
``add_readable_span``) and the OTLP receiver (``ingest.otlp``): ids as lowercase hex, kind and status as
the exporter's strings, attribute values as text (ints, floats and bools as literals, sequences and maps
as JSON, bytes as base64), Duration in nanoseconds. Every span passes one validator (``span_problem``)
first: what ClickHouse cannot store, or what would break reads, is rejected with a reason instead of
poisoning the insert. Rows are kept column-oriented, one named list per column, so the insert needs no
transposition.
"""

from __future__ import annotations

import base64
import gc
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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


# DateTime64(9) is an Int64 of nanoseconds: 2262-04-11 is its end. The table's partition, sort and TTL keys
# go through DateTime (seconds, UInt32), which ends in 2106: a span after that lands in a wrong partition
# and breaks the TTL, so that is the bound for a span's start.
MAX_DATETIME64_NS = 2**63 - 1
MAX_START_NS = (2**32 - 1) * 10**9
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
NS_PER_DAY = 86_400 * 10**9
# How far ahead of its arrival a span may start. A sender whose clock is a day or more ahead has a broken
# clock: stored, its runs would head the listing until that day and outlive the retention by as much (a
# clock set years ahead: never deleted). Less (a zone set wrong, up to 14 hours) is kept.
FUTURE_SLACK_NS = NS_PER_DAY


def id_problem(trace_id: str, span_id: str, parent_span_id: str) -> str | None:
    """Why these hex ids cannot be stored (the one id validator of every ingest path), or None."""
    if len(trace_id) != 32 or trace_id == _ZERO_TRACE:
        return "trace id must be 16 non-zero bytes"
    if len(span_id) != 16 or span_id == _ZERO_SPAN:
        return "span id must be 8 non-zero bytes"
    if parent_span_id and len(parent_span_id) != 16:
        return "parent span id must be empty or 8 bytes"
    return None


def time_problem(start_ns: int, end_ns: int, event_times: Sequence[int], oldest_ns: int,
                 retention_days: int, newest_ns: int = 0) -> str | None:
    """Why these timestamps cannot be stored or kept, or None. ``oldest_ns`` 0: no retention check;
    ``newest_ns`` 0: no check of starts in the future."""
    if start_ns > MAX_START_NS:
        return f"start time {start_ns} ns is after 2106-02-07, beyond what the table can hold"
    if start_ns < oldest_ns:
        return f"start time is older than the {retention_days}-day retention"
    if newest_ns and start_ns > newest_ns:
        return (f"start time is {(start_ns - newest_ns + FUTURE_SLACK_NS) // NS_PER_DAY} days or more after it "
                "was received: check the sender's clock")
    if end_ns and end_ns < start_ns:
        return "end time is before start time"
    if end_ns > MAX_DATETIME64_NS:
        return f"end time {end_ns} ns is beyond DateTime64(9) (2262-04-11)"
    for ts in event_times:
        if ts > MAX_DATETIME64_NS:
            return f"event time {ts} ns is beyond DateTime64(9) (2262-04-11)"
    return None


# Column name -> attribute of SpanColumns holding it (``otel_traces`` column order).
FIELDS: dict[str, str] = {
    "Timestamp": "timestamp", "TraceId": "trace_id", "SpanId": "span_id", "ParentSpanId": "parent_span_id",
    "TraceState": "trace_state", "SpanName": "span_name", "SpanKind": "span_kind", "ServiceName": "service_name",
    "ResourceAttributes": "resource_attributes", "ScopeName": "scope_name", "ScopeVersion": "scope_version",
    "SpanAttributes": "span_attributes", "Duration": "duration", "StatusCode": "status_code",
    "StatusMessage": "status_message", "Events.Timestamp": "events_timestamp", "Events.Name": "events_name",
    "Events.Attributes": "events_attributes", "Links.TraceId": "links_trace_id", "Links.SpanId": "links_span_id",
    "Links.TraceState": "links_trace_state", "Links.Attributes": "links_attributes",
}
COLUMNS: list[str] = list(FIELDS)
FOREIGN_TRACE = ("its trace is an execution of another project: the ingest token it came with is bound to its own "
                 "project, and cannot add to another's")
MAX_ERRORS = 20  # reasons kept per batch for partial_success (the count is always complete)


@dataclass
class Refusals:
    """The records of a request refused at decode (log records, metric points): how many, and the first
    ``MAX_ERRORS`` reasons, for its partial_success."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str, items: int = 1) -> None:
        self.count += items
        if len(self.reasons) < MAX_ERRORS:
            self.reasons.append(reason)


class SpanColumns:
    """Column-oriented rows for ``otel_traces``: one named list per column; ``columns`` is ready for a
    column insert. Spans that fail validation are counted in ``rejected`` with reasons in ``errors``.

    ``retention_days`` > 0 rejects spans that start before that many days ago (retention at the door), and those
    that start more than a day after ``now_ns`` (``FUTURE_SLACK_NS``)."""

    __slots__ = (*FIELDS.values(), "rejected", "errors", "retention_days", "oldest_ns", "newest_ns", "foreign_traces")

    def __init__(self, retention_days: int = 0, now_ns: int | None = None,
                 foreign_traces: Iterable[str] = ()) -> None:
        for name in FIELDS.values():
            setattr(self, name, [])
        self.rejected = 0
        self.errors: list[str] = []
        self.retention_days = retention_days
        now_ns = now_ns or time.time_ns()
        self.oldest_ns = now_ns - retention_days * NS_PER_DAY if retention_days > 0 else 0
        self.newest_ns = now_ns + FUTURE_SLACK_NS if retention_days > 0 else 0  # checked at the door, as the retention
        self.foreign_traces = frozenset(foreign_traces)  # another project's: refused (ingest.acceptance)

    @property
    def columns(self) -> list[list[Any]]:
        return [getattr(self, name) for name in FIELDS.values()]

    def __len__(self) -> int:
        return len(self.timestamp)

    def reject(self, name: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"span {name!r}: {reason}")

    def problem(self, trace_id: str, span_id: str, parent_span_id: str, start_ns: int, end_ns: int,
                event_times: Sequence[int]) -> str | None:
        """Why a span cannot be stored or kept (ids, timestamps, this batch's retention), or None: the check
        ``add_row`` makes, and ``ingest.acceptance.check`` makes before the row is built."""
        return (id_problem(trace_id, span_id, parent_span_id)
                or time_problem(start_ns, end_ns, event_times, self.oldest_ns, self.retention_days,
                                self.newest_ns)
                or (FOREIGN_TRACE if trace_id in self.foreign_traces else None))

    def add_row(self, start_ns: int, end_ns: int, trace_id: str, span_id: str, parent_span_id: str,
                trace_state: str, name: str, kind: str, service_name: str, resource: dict[str, str],
                scope_name: str, scope_version: str, attributes: dict[str, str], status_code: str,
                status_message: str, events_timestamp: list[int], events_name: list[str],
                events_attributes: list[dict[str, str]], links_trace_id: list[str], links_span_id: list[str],
                links_trace_state: list[str], links_attributes: list[dict[str, str]]) -> bool:
        """The mapping: validate one span and append its row; False (and counted) when it is rejected."""
        problem = self.problem(trace_id, span_id, parent_span_id, start_ns, end_ns, events_timestamp)
        if problem is not None:
            self.reject(name, problem)
            return False
        self.timestamp.append(start_ns)
        self.trace_id.append(trace_id)
        self.span_id.append(span_id)
        self.parent_span_id.append(parent_span_id)
        self.trace_state.append(trace_state)
        self.span_name.append(name)
        self.span_kind.append(kind)
        self.service_name.append(service_name)
        self.resource_attributes.append(resource)
        self.scope_name.append(scope_name)
        self.scope_version.append(scope_version)
        self.span_attributes.append(attributes)
        self.duration.append(end_ns - start_ns if end_ns else 0)
        self.status_code.append(status_code)
        self.status_message.append(status_message)
        self.events_timestamp.append(events_timestamp)
        self.events_name.append(events_name)
        self.events_attributes.append(events_attributes)
        self.links_trace_id.append(links_trace_id)
        self.links_span_id.append(links_span_id)
        self.links_trace_state.append(links_trace_state)
        self.links_attributes.append(links_attributes)
        return True

    def add(self, *, start_ns: int, end_ns: int, trace_id: str, span_id: str, parent_span_id: str,
            trace_state: str, name: str, kind: str, service_name: str, resource: dict[str, str],
            scope_name: str, scope_version: str, attributes: dict[str, str], status_code: str,
            status_message: str, events: Iterable[tuple[int, str, dict[str, str]]] = (),
            links: Iterable[tuple[str, str, str, dict[str, str]]] = ()) -> bool:
        """``add_row`` with events and links given as tuples (tests and hand-built rows)."""
        events, links = list(events), list(links)
        return self.add_row(start_ns, end_ns, trace_id, span_id, parent_span_id, trace_state, name, kind,
                            service_name, resource, scope_name, scope_version, attributes, status_code,
                            status_message, [e[0] for e in events], [e[1] for e in events],
                            [e[2] for e in events], [lk[0] for lk in links], [lk[1] for lk in links],
                            [lk[2] for lk in links], [lk[3] for lk in links])

    def add_readable_span(self, span: Any, resource_cache: dict[int, tuple[dict[str, str], str]]) -> bool:
        """Add an SDK ``ReadableSpan`` (the direct exporter's input)."""
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
        events = span.events
        links = span.links
        return self.add_row(
            span.start_time or 0, span.end_time or 0, format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"),
            format(parent.span_id, "016x") if parent is not None else "",
            ctx.trace_state.to_header() if ctx.trace_state else "", span.name, SDK_KIND[span.kind.value],
            cached[1], cached[0], scope.name if scope is not None else "",
            (scope.version or "") if scope is not None else "", _span_attributes(span),
            STATUS[status.status_code.value], status.description or "",
            [e.timestamp for e in events] if events else [], [e.name for e in events] if events else [],
            [attr_map(e.attributes) for e in events] if events else [],
            [hex_trace_id(lk.context.trace_id) for lk in links] if links else [],
            [hex_span_id(lk.context.span_id) for lk in links] if links else [],
            [lk.context.trace_state.to_header() if lk.context.trace_state else "" for lk in links] if links else [],
            [attr_map(lk.attributes) for lk in links] if links else [])
