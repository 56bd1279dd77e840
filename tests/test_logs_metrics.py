"""OTLP logs and metrics in the tables the Collector's exporter creates (otel_logs; otel_metrics_gauge /
_sum / _histogram / _exponential_histogram / _summary): the decoding of both OTLP encodings of what the
SDK's real exporters send, and the detail page showing each step's log records by trace and span id."""

from __future__ import annotations

import pytest

import sql_fixture_data as fx
from execlog_otel.ingest import otlp_logs, otlp_metrics
from execlog_otel.ingest.otlp import PayloadError
from otlp_signals_support import JSON, PROTOBUF, as_json, insert_logs, insert_metrics, sdk_logs, sdk_metrics
from sdk_support import get_json


def test_log_records_of_both_encodings_land_in_otel_logs(store):
    request = sdk_logs("0102030405060708090a0b0c0d0e0f10", "0102030405060708")
    for body, content_type in ((request.SerializeToString(), PROTOBUF), (as_json(request), JSON)):
        cols = otlp_logs.to_columns(otlp_logs.decode(body, content_type))
        store.pool.insert(store.table("otel_logs"), cols, column_names=otlp_logs.COLUMNS, column_oriented=True)
    rows = list(store.pool.query(
        f"SELECT ServiceName, SeverityText, SeverityNumber, Body, LogAttributes, ScopeName, TraceId, SpanId "
        f"FROM {store.table('otel_logs')}").named_results())
    assert len(rows) == 2 and rows[0] == rows[1]
    row = rows[0]
    assert (row["ServiceName"], row["SeverityText"], row["SeverityNumber"], row["Body"], row["ScopeName"]) == (
        "genai-app", "WARN", 13, "tool call refused", "genai-app.steps")
    assert row["LogAttributes"]["gen_ai.tool.name"] == "search_kb"
    assert (row["TraceId"], row["SpanId"]) == ("0102030405060708090a0b0c0d0e0f10", "0102030405060708")


def test_metric_points_of_every_kind_land_in_the_collectors_metric_tables(store):
    request = sdk_metrics()
    insert_metrics(store, request.SerializeToString(), PROTOBUF)
    insert_metrics(store, as_json(request), JSON)
    q = store.pool.query
    usage = q(f"SELECT Attributes['gen_ai.token.type'], Sum, Count, ServiceName FROM "
              f"{store.table('otel_metrics_histogram')} WHERE MetricName = 'gen_ai.client.token.usage' "
              "ORDER BY 1").result_rows
    assert usage == [("input", 120.0, 1, "genai-app")] * 2 + [("output", 30.0, 1, "genai-app")] * 2
    assert q(f"SELECT MetricName, Value, IsMonotonic FROM {store.table('otel_metrics_sum')} ORDER BY 1").result_rows \
        == [("in_flight", 2.0, False)] * 2 + [("requests", 3.0, True)] * 2
    assert q(f"SELECT Value FROM {store.table('otel_metrics_gauge')}").result_rows == [(7.0,)] * 2
    assert q(f"SELECT count() FROM {store.table('otel_metrics_exponential_histogram')} "
             "WHERE MetricName = 'exp.latency' AND Count = 1").result_rows == [(2,)]


def test_bad_log_and_metric_bodies_are_refused_plainly():
    for decode in (otlp_logs.decode, otlp_metrics.decode):
        with pytest.raises(PayloadError, match="not valid JSON"):
            decode(b"{not json", JSON)
        with pytest.raises(PayloadError, match="is not hex"):
            decode(b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}], '
                   b'"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [{"exemplars": '
                   b'[{"traceId": "zz"}]}]}}]}]}]}', JSON)
        with pytest.raises(PayloadError) as err:
            decode(b"{}", "text/plain")
        assert err.value.status == 415


def test_the_detail_page_shows_each_steps_log_records(server, store):
    loaded = fx.load(store)
    tid, step_span = loaded.tid("B2"), fx.span_id("B2/2")  # update-record, the failed step
    insert_logs(store, sdk_logs(tid, step_span))
    steps = get_json(f"{server.url}/api/executions/{loaded.eid('B2')}")["steps"]
    logs = {s["span_id"]: s["logs"] for s in steps}
    assert [(lg["severity"], lg["severity_number"], lg["body"]) for lg in logs[step_span]] == [
        ("WARN", 13, "tool call refused")]
    assert all(not v for k, v in logs.items() if k != step_span)
