"""OTLP metrics -> the Collector's metric tables, one row per data point, as its clickhouse exporter writes them.

Gauge, sum, histogram, exponential histogram and summary points go to ``otel_metrics_gauge``,
``_sum``, ``_histogram``, ``_exponential_histogram`` and ``_summary``. Every row carries the
resource (attributes, schema URL, ``service.name``), the scope (name, version, attributes, dropped
attribute count, schema URL), the metric (name, description, unit), the point's attributes and its
start and time (the tables hold seconds); each kind adds its own value columns, and exemplars go to
the ``Exemplars`` nested columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from execlog_otel.ingest import otlp, otlp_json
from execlog_otel.store.rows import Refusals, time_problem

_COMMON = ["ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
           "ScopeDroppedAttrCount", "ScopeSchemaUrl", "ServiceName", "MetricName", "MetricDescription",
           "MetricUnit", "Attributes", "StartTimeUnix", "TimeUnix"]
_EXEMPLARS = ["Exemplars.FilteredAttributes", "Exemplars.TimeUnix", "Exemplars.Value", "Exemplars.SpanId",
              "Exemplars.TraceId"]
_HIST_TAIL = ["Flags", "Min", "Max", "AggregationTemporality"]

# table -> its columns after the common ones, in the order ``_values`` yields them
TABLES: dict[str, list[str]] = {
    "otel_metrics_gauge": ["Value", "Flags", *_EXEMPLARS],
    "otel_metrics_sum": ["Value", "Flags", *_EXEMPLARS, "AggregationTemporality", "IsMonotonic"],
    "otel_metrics_histogram": ["Count", "Sum", "BucketCounts", "ExplicitBounds", *_EXEMPLARS, *_HIST_TAIL],
    "otel_metrics_exponential_histogram": ["Count", "Sum", "Scale", "ZeroCount", "PositiveOffset",
                                           "PositiveBucketCounts", "NegativeOffset", "NegativeBucketCounts",
                                           *_EXEMPLARS, *_HIST_TAIL],
    "otel_metrics_summary": ["Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", "Flags"],
}
_KIND_TABLE = {"gauge": "otel_metrics_gauge", "sum": "otel_metrics_sum", "histogram": "otel_metrics_histogram",
               "exponential_histogram": "otel_metrics_exponential_histogram", "summary": "otel_metrics_summary"}

REQUEST = metrics_service_pb2.ExportMetricsServiceRequest


def columns_of(table: str) -> list[str]:
    return _COMMON + TABLES[table]


def _json_points(metric: dict[str, Any]) -> int:
    """The data points of a metric of an OTLP JSON request, counted in its JSON."""
    return sum(len(points) for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
               if isinstance(data := metric.get(kind), dict) and isinstance(points := data.get("dataPoints"), list))


# A metric of an OTLP JSON request that does not decode is refused alone, its points counted (otlp_json.Leaves).
LEAVES = otlp_json.Leaves("scopeMetrics", "metrics", metrics_pb2.Metric, _json_points,
                          lambda metric: f"metric {str(metric.get('name', ''))[:100]!r}")


def decode(body: bytes, content_type: str | None, max_points: int = 0,
           refused: list[tuple[int, str]] | None = None) -> Any:
    """The ExportMetricsServiceRequest of a protobuf or JSON body (PayloadError 400/413/415 otherwise); given
    ``refused``, the metrics of a JSON body that do not decode are left out and noted there."""
    message = REQUEST()
    mt = otlp.media_type(content_type)
    if mt == otlp.PROTOBUF:
        try:
            message.ParseFromString(body)
        except Exception as exc:  # noqa: BLE001 - any decode failure is the client's
            raise otlp.protobuf_error("ExportMetricsServiceRequest", exc) from None
    elif mt == otlp.JSON:
        try:
            otlp_json.parse(body, message, "resourceMetrics", LEAVES, refused)
        except otlp_json.JsonPayloadError as exc:
            raise otlp.PayloadError(400, str(exc)) from None
    else:
        raise otlp.PayloadError(415, f"unsupported Content-Type {content_type or '(none)'!r}: "
                                     f"use {otlp.PROTOBUF} or {otlp.JSON}")
    if max_points:
        n = sum(len(getattr(m, m.WhichOneof("data")).data_points) for rm in message.resource_metrics
                for sm in rm.scope_metrics for m in sm.metrics if m.WhichOneof("data"))
        if n > max_points:
            raise otlp.PayloadError(413, f"request holds {n} metric points, more than the limit of {max_points}")
    return message


def _seconds(ns: int) -> int:
    return int(ns) // 1_000_000_000


def _number(point: Any) -> float:
    return float(point.as_int) if point.WhichOneof("value") == "as_int" else float(point.as_double)


def _exemplars(point: Any) -> list[list[Any]]:
    ex = point.exemplars
    return [[otlp.attrs(e.filtered_attributes) for e in ex], [_seconds(e.time_unix_nano) for e in ex],
            [_number(e) for e in ex], [e.span_id.hex() for e in ex], [e.trace_id.hex() for e in ex]]


def _values(kind: str, data: Any, p: Any) -> list[Any]:
    if kind == "gauge":
        return [_number(p), p.flags, *_exemplars(p)]
    if kind == "sum":
        return [_number(p), p.flags, *_exemplars(p), int(data.aggregation_temporality), bool(data.is_monotonic)]
    tail = [p.flags, p.min, p.max, int(data.aggregation_temporality)]
    if kind == "histogram":
        return [p.count, p.sum, list(p.bucket_counts), list(p.explicit_bounds), *_exemplars(p), *tail]
    if kind == "exponential_histogram":
        return [p.count, p.sum, p.scale, p.zero_count, p.positive.offset, list(p.positive.bucket_counts),
                p.negative.offset, list(p.negative.bucket_counts), *_exemplars(p), *tail]
    return [p.count, p.sum, [q.quantile for q in p.quantile_values], [q.value for q in p.quantile_values], p.flags]


@dataclass
class Points:
    """Column-oriented rows per metric table (``columns_of(table)`` order), and the points refused."""

    tables: dict[str, list[list[Any]]] = field(default_factory=dict)
    refused: Refusals = field(default_factory=Refusals)


def _problem(p: Any) -> str | None:
    """Why the tables cannot hold a point's times (DateTime, to 2106), as for spans; None when they can."""
    return time_problem(max(p.start_time_unix_nano, p.time_unix_nano, *(e.time_unix_nano for e in p.exemplars)),
                        0, (), 0, 0)


def to_columns(message: Any) -> Points:
    """Column-oriented rows per metric table; tables without points are left out, points whose times the
    tables cannot hold are refused with the reason (they were dead-lettered at the insert)."""
    points = Points()
    out = points.tables
    for rm in message.resource_metrics:
        res_attrs = otlp.attrs(rm.resource.attributes)
        service = res_attrs.get("service.name", "")
        for sm in rm.scope_metrics:
            scope = sm.scope
            head = [res_attrs, rm.schema_url, scope.name, scope.version, otlp.attrs(scope.attributes),
                    scope.dropped_attributes_count, sm.schema_url, service]
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind not in _KIND_TABLE:
                    continue
                data = getattr(metric, kind)
                table = _KIND_TABLE[kind]
                cols = out.setdefault(table, [[] for _ in columns_of(table)])
                for p in data.data_points:
                    why = _problem(p)
                    if why is not None:
                        points.refused.add(f"metric {metric.name!r}: {why}")
                        continue
                    row = [*head, metric.name, metric.description, metric.unit, otlp.attrs(p.attributes),
                           _seconds(p.start_time_unix_nano), _seconds(p.time_unix_nano), *_values(kind, data, p)]
                    otlp.append_row(cols, row)
    return points


RESPONSE = metrics_service_pb2.ExportMetricsServiceResponse
