"""OTLP logs and metrics in the tables the Collector's exporter creates (otel_logs; otel_metrics_gauge /
_sum / _histogram / _exponential_histogram / _summary): the decoding of both OTLP encodings of what the
SDK's real exporters send, and the detail page showing each step's log records by trace and span id."""

from __future__ import annotations

import pytest

import sql_fixture_data as fx
from execlog_otel.ingest import otlp_logs, otlp_metrics
from execlog_otel.ingest.otlp import PayloadError
from otlp_signals_support import (
    JSON,
    PROTOBUF,
    as_json,
    insert_logs,
    insert_metrics,
    plain_insert,
    sdk_logs,
    sdk_metrics,
)
from sdk_support import get_json


def test_log_records_of_both_encodings_land_in_otel_logs(store):
    request = sdk_logs("0102030405060708090a0b0c0d0e0f10", "0102030405060708")
    for body, content_type in ((request.SerializeToString(), PROTOBUF), (as_json(request), JSON)):
        cols = otlp_logs.to_columns(otlp_logs.decode(body, content_type)).columns
        store.pool.insert(store.table("otel_logs"), cols, column_names=otlp_logs.COLUMNS, column_oriented=True,
                          settings=plain_insert())
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


def test_metric_points_the_tables_cannot_hold_are_refused_with_the_reason(server, store):
    """A point past 2106 (DateTime's end) was answered 200 and dead-lettered at the insert with a 40-line
    traceback; it is refused in partial_success, the request's other points stored."""
    import json
    import time
    import urllib.request

    def gauge(name: str, ns: int) -> dict:
        return {"name": name, "gauge": {"dataPoints": [{"timeUnixNano": str(ns), "asDouble": 1.5}]}}

    body = {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "m"}}]},
                                 "scopeMetrics": [{"metrics": [gauge("kept", time.time_ns()),
                                                               gauge("far", 2**64 - 1)]}]}]}
    req = urllib.request.Request(server.url + "/v1/metrics", data=json.dumps(body).encode(),
                                 headers={"Content-Type": JSON})
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer = json.loads(resp.read())
    partial = answer["partialSuccess"]
    assert int(partial["rejectedDataPoints"]) == 1
    assert "metric 'far'" in partial["errorMessage"] and "2106" in partial["errorMessage"]
    rows = store.pool.query(f"SELECT MetricName FROM {store.table('otel_metrics_gauge')}").result_rows
    assert rows == [("kept",)]


def test_the_detail_page_shows_each_steps_log_records(server, store):
    loaded = fx.load(store)
    tid, step_span = loaded.tid("B2"), fx.span_id("B2/2")  # update-record, the failed step
    insert_logs(store, sdk_logs(tid, step_span))
    steps = get_json(f"{server.url}/api/executions/{loaded.eid('B2')}")["steps"]
    logs = {s["span_id"]: s["logs"] for s in steps}
    assert [(lg["severity"], lg["severity_number"], lg["body"]) for lg in logs[step_span]] == [
        ("WARN", 13, "tool call refused")]
    assert all(not v for k, v in logs.items() if k != step_span)


def _count(store, table: str, where: str = "1") -> int:
    return store.pool.query(f"SELECT count() FROM {store.table(table)} WHERE {where}").result_rows[0][0]


def test_the_sdks_otlp_exporters_send_logs_and_metrics_to_execlog_serve(server, store):
    import logging

    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from otlp_signals_support import RESOURCE
    from sdk_support import wait_for

    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server.url}/v1/logs")))
    logger = logging.getLogger("genai-app.live")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    logger.error("model call failed", extra={"gen_ai.request.model": "gpt-4o"})
    logger.removeHandler(handler)
    provider.shutdown()
    meters = MeterProvider(resource=RESOURCE, metric_readers=[PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{server.url}/v1/metrics"), export_interval_millis=3_600_000)])
    meters.get_meter("genai").create_histogram("gen_ai.client.token.usage").record(
        42, {"gen_ai.request.model": "gpt-4o", "gen_ai.token.type": "input"})
    meters.shutdown()  # exports what it holds
    wait_for(lambda: _count(store, "otel_logs", "SeverityText = 'ERROR' AND Body = 'model call failed'") == 1,
             "the log record in otel_logs")
    wait_for(lambda: _count(store, "otel_metrics_histogram", "MetricName = 'gen_ai.client.token.usage' "
                                                              "AND Sum = 42") == 1, "the token usage point")


def test_logs_and_metrics_take_the_ingest_token_not_the_csrf_check(settings, store):
    import dataclasses

    from execlog_otel.viewer.app import create_app
    from execlog_otel.viewer.auth import hash_password

    guarded = dataclasses.replace(settings, ingest_token="ingest-" + "x" * 30, auth_token="view-" + "y" * 30,
                                  auth_users=(f"ada:{hash_password('pw for the test')}",), secret_key="k" * 40)
    client = create_app(guarded, store).test_client()
    body = as_json(sdk_logs("0102030405060708090a0b0c0d0e0f10", "0102030405060708"))
    auth = {"Content-Type": JSON, "Authorization": f"Bearer {guarded.ingest_token}"}
    paths = (("/v1/logs", body), ("/v1/metrics", as_json(sdk_metrics())))
    for path, payload in paths:
        ok = client.post(path, data=payload, headers=auth)
        assert ok.status_code == 200, ok.data
        bad = client.post(path, data=b"{not json", headers=auth)
        assert bad.status_code == 400 and b"not valid JSON" in bad.data
        assert client.post(path, data=b"x" * (guarded.max_body_bytes + 1), headers=auth).status_code == 413
        assert client.post(path, data=payload, headers={**auth, "Content-Type": "text/plain"}).status_code == 415
    for path, payload in paths:  # last: wrong tokens count as guesses, and guessing is throttled
        assert client.post(path, data=payload, headers={"Content-Type": JSON}).status_code == 401


def test_a_json_log_record_or_metric_that_does_not_decode_is_refused_alone(server, store):
    """One record with an id that is not hex (or a metric with a number that is not one) refused the whole
    request (400): every record of it lost. Now it is refused alone, in partial_success with the reason."""
    import json
    import time
    import urllib.request

    def post(path: str, body: dict) -> dict:
        req = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": JSON})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    now = str(time.time_ns())
    records = [{"timeUnixNano": now, "body": {"stringValue": "kept"}},
               {"timeUnixNano": now, "traceId": "zz" * 16, "body": {"stringValue": "bad id"}},
               {"timeUnixNano": now, "body": {"stringValue": "also kept"}}]
    answer = post("/v1/logs", {"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]})
    assert answer["partialSuccess"]["rejectedLogRecords"] == "1"
    assert "log record: " in answer["partialSuccess"]["errorMessage"] and "is not hex" in \
        answer["partialSuccess"]["errorMessage"]
    bodies = {r[0] for r in store.pool.query(f"SELECT Body FROM {store.table('otel_logs')}").result_rows}
    assert bodies == {"kept", "also kept"}

    def gauge(name: str, value: object, points: int = 1) -> dict:
        return {"name": name, "gauge": {"dataPoints": [{"timeUnixNano": now, "asDouble": value}] * points}}

    answer = post("/v1/metrics", {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        gauge("kept", 1.5), gauge("broken", "many", points=3), gauge("also kept", 2.5)]}]}]})
    assert answer["partialSuccess"]["rejectedDataPoints"] == "3"
    assert "metric 'broken': body is not valid OTLP JSON" in answer["partialSuccess"]["errorMessage"]
    names = {r[0] for r in store.pool.query(f"SELECT MetricName FROM {store.table('otel_metrics_gauge')}").result_rows}
    assert names == {"kept", "also kept"}

    snake = {"resource_logs": [{"scope_logs": [{"log_records": [  # the proto field names, as protobuf's parser takes
        {"time_unix_nano": now, "trace_id": "zz" * 16}, {"time_unix_nano": now, "body": {"string_value": "snake"}}]}]}]}
    assert post("/v1/logs", snake)["partialSuccess"]["rejectedLogRecords"] == "1"
    assert ("snake",) in store.pool.query(f"SELECT Body FROM {store.table('otel_logs')}").result_rows

    bad_resource = {"resourceLogs": [{"resource": {"attributes": "nope"}, "scopeLogs": [{"logRecords": records[:1]}]}]}
    req = urllib.request.Request(server.url + "/v1/logs", data=json.dumps(bad_resource).encode(),
                                 headers={"Content-Type": JSON})
    with pytest.raises(urllib.error.HTTPError) as err:  # outside every record: the whole request, as before
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 400
