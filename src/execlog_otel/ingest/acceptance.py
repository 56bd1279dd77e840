"""What the receiver decided about a trace request (``Acceptance``), and the rows it stores under it.

Building a request's rows is most of its cost (about 15 ms of Python for 512 spans: every attribute read
from the message, capped, converted to Arrow), and it holds the interpreter lock: requests that arrived
together waited for each other's, which was the tail of the acknowledgements. So a protobuf request is only
*checked* before it is acknowledged (``check``: ids, timestamps and the retention, read from the parsed
message, about 1 ms: the spans ClickHouse could not store or the retention would drop are answered in
``partial_success``) and kept in the write-ahead log as it arrived, with its acceptance (``payload``). Its
rows are built later, off the acknowledgement's path, by the log's converter (``Converter``), with the same
rules: ``columns`` is the one conversion of a request into rows, also used for OTLP JSON requests and by a
server without a log, which build the rows before answering. ``check`` and the conversion reject spans by
the same function (``rows.SpanColumns.problem``) at the same acceptance time, so they keep the same spans.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.ingest import otlp
from execlog_otel.ingest.caps import cap_columns
from execlog_otel.retry.proof import unproven_claims
from execlog_otel.store import span_arrow
from execlog_otel.store.rows import COLUMNS, SpanColumns
from execlog_otel.store.store import SPAN_TABLE

PREFIX = b"\x00otlp\n"  # a log payload of a request kept as it arrived: PREFIX, the acceptance as JSON, "\n", body


@dataclass(frozen=True)
class Acceptance:
    """When a request was accepted and the rules its spans are stored by."""

    accepted_ns: int
    retention_days: int = 0
    project: str = ""  # the project of the ingest token it came with (its spans are stored in it)
    max_attribute_bytes: int = 0
    # Traces of the request that were another project's when it was accepted (only with a project): their
    # spans are refused, then and when its rows are built.
    foreign_traces: tuple[str, ...] = ()

    def spans(self) -> SpanColumns:
        """Empty rows with this acceptance's retention (measured from its time, whenever they are built)."""
        return SpanColumns(retention_days=self.retention_days, now_ns=self.accepted_ns,
                           foreign_traces=self.foreign_traces)


def bind_project(columns: SpanColumns, project: str | None) -> None:
    """Spans sent with an ingest token bound to a project are stored in it, whatever project they claim: the
    resource attribute execlog.project (what facts/project.sql reads first) is set to it."""
    if not project:
        return
    for resource in columns.resource_attributes:
        resource[sc.RESOURCE_PROJECT] = project


def columns(request: Any, acceptance: Acceptance, retry_secret: str) -> SpanColumns:
    """The rows of a decoded request (either message family): validated, capped, bound to the token's project,
    forged retry claims demoted (they become executions of their own)."""
    out = otlp.to_columns(request, acceptance.spans())
    cap_columns(out, acceptance.max_attribute_bytes)
    bind_project(out, acceptance.project)
    unproven_claims(out.columns, retry_secret)
    return out


def check(request: Any, acceptance: Acceptance) -> SpanColumns:
    """Which spans of a protobuf request ``columns`` will keep, without building a row: the result holds no
    rows, only ``rejected`` and ``errors``; the kept spans are ``otlp.span_count(request) - rejected``."""
    out = acceptance.spans()
    problem, reject = out.problem, out.reject
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                events = span.events
                why = problem(span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                              span.start_time_unix_nano, span.end_time_unix_nano,
                              [e.time_unix_nano for e in events] if events else ())
                if why is not None:
                    reject(span.name, why)
    return out


def payload(acceptance: Acceptance, body: bytes) -> bytes:
    """How the log keeps a protobuf request until its rows are built."""
    return PREFIX + json.dumps(asdict(acceptance), separators=(",", ":")).encode() + b"\n" + body


def read_payload(data: bytes | memoryview) -> tuple[Acceptance, bytes]:
    """(acceptance, body) of a ``payload``; ValueError when it is not one."""
    raw = bytes(data)
    if not raw.startswith(PREFIX):
        raise ValueError("not a request payload")
    end = raw.find(b"\n", len(PREFIX))
    if end < 0:
        raise ValueError("a request payload without its acceptance")
    try:
        fields = json.loads(raw[len(PREFIX):end])
        acceptance = Acceptance(int(fields["accepted_ns"]), int(fields["retention_days"]), str(fields["project"]),
                                int(fields["max_attribute_bytes"]),
                                tuple(str(t) for t in fields.get("foreign_traces", ())))  # logs made before lack it
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"a request payload with an unreadable acceptance: {exc}") from None
    return acceptance, raw[end + 1:]


class Converter:
    """A log payload of a request -> its rows, as the writer inserts them (an Arrow table, or column lists for
    values Arrow cannot take, so the writer isolates the rows the store refuses)."""

    def __init__(self, retry_secret: str = ""):
        self.retry_secret = retry_secret

    def __call__(self, data: bytes | memoryview) -> tuple[str, list[str], Any]:
        acceptance, body = read_payload(data)
        try:
            request = otlp.decode_request(body, otlp.PROTOBUF)
            rows = columns(request, acceptance, self.retry_secret)
        except (otlp.PayloadError, RecursionError) as exc:
            raise ValueError(f"the request no longer decodes: {exc}") from None
        try:
            return SPAN_TABLE, list(COLUMNS), span_arrow.read(span_arrow.encode(rows.columns))
        except (ValueError, TypeError, OverflowError, UnicodeError):
            return SPAN_TABLE, list(COLUMNS), rows.columns
