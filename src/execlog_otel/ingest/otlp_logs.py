"""OTLP logs -> ``otel_logs`` rows, as the Collector's clickhouse exporter writes them.

Per log record: Timestamp (the record's time, else its observed time), hex TraceId / SpanId,
TraceFlags (the record's flags), SeverityText / SeverityNumber, ServiceName (resource
``service.name``), Body as text (a string as is; maps and lists as JSON), the resource's and scope's
schema URLs and attributes, LogAttributes and EventName. Values follow the span path's text rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.logs.v1 import logs_pb2

from execlog_otel import semconv as sc
from execlog_otel.ingest import otlp, otlp_json
from execlog_otel.store.rows import FOREIGN_TRACE, Refusals, time_problem

TABLE = "otel_logs"
COLUMNS = ["Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
           "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion",
           "ScopeAttributes", "LogAttributes", "EventName"]

REQUEST = logs_service_pb2.ExportLogsServiceRequest


# A log record of an OTLP JSON request that does not decode is refused alone (``otlp_json.Leaves``).
LEAVES = otlp_json.Leaves("scopeLogs", "logRecords", logs_pb2.LogRecord, lambda record: 1, lambda record: "log record")


def decode(body: bytes, content_type: str | None, max_records: int = 0,
           refused: list[tuple[int, str]] | None = None) -> Any:
    """The ExportLogsServiceRequest of a protobuf or JSON body (PayloadError 400/413/415 otherwise); given
    ``refused``, the log records of a JSON body that do not decode are left out and noted there."""
    message = REQUEST()
    mt = otlp.media_type(content_type)
    if mt == otlp.PROTOBUF:
        try:
            message.ParseFromString(body)
        except Exception as exc:  # noqa: BLE001 - any decode failure is the client's
            raise otlp.protobuf_error("ExportLogsServiceRequest", exc) from None
    elif mt == otlp.JSON:
        try:
            otlp_json.parse(body, message, "resourceLogs", LEAVES, refused)
        except otlp_json.JsonPayloadError as exc:
            raise otlp.PayloadError(400, str(exc)) from None
    else:
        raise otlp.PayloadError(415, f"unsupported Content-Type {content_type or '(none)'!r}: "
                                     f"use {otlp.PROTOBUF} or {otlp.JSON}")
    n = sum(len(sl.log_records) for rl in message.resource_logs for sl in rl.scope_logs)
    if max_records and n > max_records:
        raise otlp.PayloadError(413, f"request holds {n} log records, more than the limit of {max_records}")
    return message


def to_columns(message: Any, project: str = "", foreign_traces: Iterable[str] = ()) -> Rows:
    """Column-oriented rows of ``otel_logs``, in ``COLUMNS`` order. Records the table cannot hold (a time past
    2106) and, from a token bound to ``project``, records of another project's traces (``foreign_traces``)
    are refused, with the reason; the records of such a token are stored in its project, as its spans are."""
    out = Rows([[] for _ in COLUMNS])
    foreign = frozenset(foreign_traces)
    for rl in message.resource_logs:
        res_attrs = otlp.attrs(rl.resource.attributes)
        if project:
            res_attrs[sc.RESOURCE_PROJECT] = project
        service = res_attrs.get("service.name", "")
        for sl in rl.scope_logs:
            scope_attrs = otlp.attrs(sl.scope.attributes)
            for rec in sl.log_records:
                at, trace_id = rec.time_unix_nano or rec.observed_time_unix_nano, rec.trace_id.hex()
                why = time_problem(at, 0, (), 0, 0) or (FOREIGN_TRACE if trace_id in foreign else None)
                if why is not None:
                    out.refused.add(f"log record: {why}")
                    continue
                row = (at, trace_id, rec.span_id.hex(),
                       rec.flags & 0xFF, rec.severity_text, max(0, min(int(rec.severity_number), 255)), service,
                       otlp.value_text(rec.body) if rec.HasField("body") else "", rl.schema_url, res_attrs,
                       sl.schema_url, sl.scope.name, sl.scope.version, scope_attrs, otlp.attrs(rec.attributes),
                       getattr(rec, "event_name", ""))
                otlp.append_row(out.columns, row)
    return out


@dataclass
class Rows:
    columns: list[list[Any]]
    refused: Refusals = field(default_factory=Refusals)


RESPONSE = logs_service_pb2.ExportLogsServiceResponse
