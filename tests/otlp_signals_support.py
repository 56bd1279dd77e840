"""OTLP logs and metrics as the SDK's real OTLP exporters encode them, for the logs / metrics tests."""

from __future__ import annotations

import base64
import json
import logging
import uuid

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from execlog_otel.ingest import otlp_logs, otlp_metrics

RESOURCE = Resource.create({"service.name": "genai-app"})
PROTOBUF, JSON = "application/x-protobuf", "application/json"


def plain_insert() -> dict[str, str]:
    """Insert settings for rows a test inserts more than once (one per encoding): a token of their own, so
    ClickHouse does not take them for a repeated block (the tables have a deduplication window, migration 028)."""
    return {"insert_deduplication_token": uuid.uuid4().hex}


def as_json(message) -> bytes:
    """OTLP JSON as the specification writes it: hex ids (protobuf's JSON mapping has base64)."""
    data = json_format.MessageToDict(message)

    def hex_ids(node):
        if isinstance(node, dict):
            return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId") else hex_ids(v))
                    for k, v in node.items()}
        return [hex_ids(v) for v in node] if isinstance(node, list) else node
    return json.dumps(hex_ids(data)).encode()


def sdk_logs(trace_id: str = "", span_id: str = ""):
    """An ExportLogsServiceRequest as the SDK's OTLP log exporter encodes it."""
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = logging.getLogger("genai-app.steps")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        ctx = None
        if trace_id:
            span = NonRecordingSpan(SpanContext(int(trace_id, 16), int(span_id, 16), False,
                                                TraceFlags(TraceFlags.SAMPLED)))
            ctx = trace.use_span(span)
            ctx.__enter__()
        logger.warning("tool call refused", extra={"gen_ai.tool.name": "search_kb"})
        if ctx is not None:
            ctx.__exit__(None, None, None)
    finally:
        logger.removeHandler(handler)
    return encode_logs(memory.get_finished_logs())


def insert_logs(store, request) -> None:
    cols = otlp_logs.to_columns(otlp_logs.decode(request.SerializeToString(), PROTOBUF)).columns
    store.pool.insert(store.table(otlp_logs.TABLE), cols, column_names=otlp_logs.COLUMNS, column_oriented=True,
                      settings=plain_insert())


def sdk_metrics():
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader], views=[
        View(instrument_name="exp.*", aggregation=ExponentialBucketHistogramAggregation())])
    meter = provider.get_meter("genai")
    tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    tokens.record(120, {"gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "input"})
    tokens.record(30, {"gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "output"})
    meter.create_histogram("gen_ai.client.operation.duration", unit="s").record(
        1.5, {"gen_ai.request.model": "gpt-4o"})
    meter.create_counter("requests").add(3, {"route": "/chat"})
    meter.create_up_down_counter("in_flight").add(2)
    meter.create_observable_gauge("queue_depth", callbacks=[lambda _options: [Observation(7)]])
    meter.create_histogram("exp.latency", unit="s").record(0.25)
    return encode_metrics(reader.get_metrics_data())


def insert_metrics(store, body: bytes, content_type: str) -> None:
    for table, cols in otlp_metrics.to_columns(otlp_metrics.decode(body, content_type)).tables.items():
        store.pool.insert(store.table(table), cols, column_names=otlp_metrics.columns_of(table),
                          column_oriented=True, settings=plain_insert())
