"""Validation at decode and bounded decoding: what ClickHouse cannot store is rejected in partial_success (the rest
is kept, nothing after it waits, across a restart too); spans older than the retention are refused at the door;
deep JSON is a 400; a span bomb stays within its memory bound."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from benchmarks.common import ServeProcess, clean_env
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from tests.reliability_support import http, otlp_json, post_spans, span_ids, stored_span_ids

PB = {"Content-Type": "application/x-protobuf"}


def pb_request(ids: list[tuple[str, str]], start_ns: int | None = None, name: str = "step",
               service: str = "validation") -> trace_service_pb2.ExportTraceServiceRequest:
    now = time.time_ns() if start_ns is None else start_ns
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", service
    ss = rs.scope_spans.add()
    for tid, sid in ids:
        span = ss.spans.add()
        span.trace_id, span.span_id, span.name = bytes.fromhex(tid), bytes.fromhex(sid), name
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1000
    return req


def post_pb(url: str, req, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    status, _, body = http("POST", url + "/v1/traces", req.SerializeToString(), {**PB, **(headers or {})})
    return status, body


def partial(body: bytes) -> trace_service_pb2.ExportTraceServiceResponse:
    return trace_service_pb2.ExportTraceServiceResponse.FromString(body)


def test_timestamps_the_table_cannot_hold_are_rejected_and_nothing_waits_behind_them(tmp_path: Path):
    """startTimeUnixNano = 2^64-1 is a valid fixed64: before, it was acknowledged, failed at the insert and
    blocked every later request, across restarts."""
    data = tmp_path / "data"
    serve = ServeProcess(data)
    try:
        req = pb_request(span_ids(60, 30))
        spans = req.resource_spans[0].scope_spans[0].spans
        spans[7].start_time_unix_nano = 2**64 - 1
        spans[8].end_time_unix_nano = spans[8].start_time_unix_nano - 5  # ends before it starts
        spans[9].events.add(time_unix_nano=2**64 - 2, name="late")
        status, body = post_pb(serve.url, req)
        assert status == 200
        resp = partial(body)
        assert resp.partial_success.rejected_spans == 3
        msg = resp.partial_success.error_message
        assert "after 2106-02-07" in msg and "end time is before start time" in msg and "event time" in msg
        assert post_pb(serve.url, pb_request(span_ids(10, 31)))[0] == 200
    finally:
        assert serve.stop() == 0, serve.stderr()
    serve = ServeProcess(data)  # restart: nothing stuck in the log
    try:
        assert post_pb(serve.url, pb_request(span_ids(5, 32)))[0] == 200
    finally:
        assert serve.stop() == 0, serve.stderr()
    assert len(stored_span_ids(data)) == 57 + 10 + 5


def test_spans_older_than_the_retention_are_refused_at_the_door_and_reads_work(server, store):
    old = time.time_ns() - 40 * 86_400 * 10**9  # 40 days back: past the 30-day retention
    status, body = post_pb(server.url, pb_request(span_ids(300, 33), start_ns=old))
    assert status == 200
    resp = partial(body)
    assert resp.partial_success.rejected_spans == 300
    assert "older than the 30-day retention" in resp.partial_success.error_message
    status, body = post_pb(server.url, pb_request(span_ids(3, 34)))
    assert status == 200 and partial(body).partial_success.rejected_spans == 0
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 3
    assert http("GET", server.url + "/api/executions")[0] == 200


def test_spans_starting_a_day_or_more_ahead_are_refused_with_the_reason(server, store):
    """A sender whose clock is days ahead: kept, its runs would head the listing until then and outlive the
    retention by as much (a clock years ahead: never deleted). A clock hours ahead (a wrong zone) is kept."""
    hour = 3600 * 10**9
    status, body = post_pb(server.url, pb_request(span_ids(20, 38), start_ns=time.time_ns() + 75 * hour))
    assert status == 200
    resp = partial(body)
    assert resp.partial_success.rejected_spans == 20
    assert "3 days or more after it was received: check the sender's clock" in resp.partial_success.error_message
    status, body = post_pb(server.url, pb_request(span_ids(5, 39), start_ns=time.time_ns() + 14 * hour))
    assert status == 200 and partial(body).partial_success.rejected_spans == 0
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 5


def test_every_gzip_member_and_proto_field_names_are_read(server, store):
    """A gzip body of several members (concatenated files, pigz) was answered 200 with only its first member
    stored; OTLP/JSON with the proto field names (resource_spans, span_id: what protobuf's own JSON parsers and
    /v1/logs take) was answered 200 with nothing stored."""
    first, second = span_ids(3, 41), span_ids(2, 42)
    body = gzip.compress(pb_request(first).SerializeToString()) + gzip.compress(pb_request(second).SerializeToString())
    assert gzip.decompress(body)  # valid as sent: Python's gzip reads every member
    status, _, _ = http("POST", server.url + "/v1/traces", body, {**PB, "Content-Encoding": "gzip"})
    assert status == 200
    snake = json.loads(otlp_json(span_ids(2, 43), {"a_key": "kept as written"}))
    snake = {"resource_spans": [{"resource": snake["resourceSpans"][0]["resource"], "scope_spans": [
        {"spans": [{"trace_id": sp["traceId"], "span_id": sp["spanId"], "name": "snake",
                    "start_time_unix_nano": sp["startTimeUnixNano"], "end_time_unix_nano": sp["endTimeUnixNano"],
                    "attributes": sp["attributes"]} for sp in snake["resourceSpans"][0]["scopeSpans"][0]["spans"]]}]}]}
    assert post_spans(server.url, json.dumps(snake).encode())[0] == 200
    rows = store.pool.query(f"SELECT SpanName, count(), any(SpanAttributes['a_key']) FROM {store.table('otel_traces')} "
                            "GROUP BY SpanName ORDER BY SpanName").result_rows
    assert rows == [("snake", 2, "kept as written"), ("step", 5, "")]


def test_deeply_nested_json_is_a_400_with_a_message(server, store):
    depth = 100_000
    body = b'{"resourceSpans":' + b"[" * depth + b"]" * depth + b"}"
    status, data = post_spans(server.url, body)
    assert status == 400
    assert "nested too deeply" in json.loads(data)["message"]
    assert post_spans(server.url, otlp_json(span_ids(1, 35)))[0] == 200  # still serving


def test_a_request_with_too_many_spans_is_refused_before_decoding(settings, store):
    from dataclasses import replace

    from execlog_otel import server as server_mod

    running = server_mod.start(replace(settings, max_spans_per_request=50), store=store).start_background()
    try:
        for send in (lambda ids: post_spans(running.url, otlp_json(ids)),
                     lambda ids: post_pb(running.url, pb_request(ids))):
            status, data = send(span_ids(51, 36))
            assert status == 413 and b"51 spans" in data and b"EXECLOG_MAX_SPANS_PER_REQUEST" in data
            assert send(span_ids(50, 36))[0] == 200
        assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 100
    finally:
        running.close()


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_span_bomb_stays_within_200_mb_of_memory(tmp_path: Path):
    """320,000 small spans in a 1.7 MB gzip body: refused with the limit named, at most 200 MB of extra
    resident memory in serve (before: about 0.93 GB)."""
    req = pb_request([], name="s")
    spans = req.resource_spans[0].scope_spans[0].spans
    tid = bytes.fromhex("ab" * 16)
    for i in range(320_000):
        span = spans.add()
        span.trace_id, span.span_id, span.name = tid, (i + 1).to_bytes(8, "big"), "s"
        span.start_time_unix_nano, span.end_time_unix_nano = 1, 2
    body = gzip.compress(req.SerializeToString())
    assert len(body) < 2_500_000
    serve = ServeProcess(tmp_path / "data", env=clean_env())
    try:
        assert post_pb(serve.url, pb_request(span_ids(2, 37)))[0] == 200  # warm: every module loaded
        before = _peak_rss_kb(serve.proc.pid)
        status, _, data = http("POST", serve.url + "/v1/traces", body,
                               {**PB, "Content-Encoding": "gzip", "Accept": "application/json"})
        grown_mb = (_peak_rss_kb(serve.proc.pid) - before) / 1024
        assert status == 413, data[:300]
        assert b"EXECLOG_MAX_SPANS_PER_REQUEST" in data and b"320000 spans" in data
        assert grown_mb <= 200, f"peak resident memory grew by {grown_mb:.0f} MB"
        assert post_pb(serve.url, pb_request(span_ids(2, 38)))[0] == 200
    finally:
        assert serve.stop() == 0, serve.stderr()


# Bytes that are not UTF-8 put into a serialized request in place of a same-length placeholder (protobuf's
# parser refuses such a string field; an SDK that passes raw bytes through sends them).
NOT_UTF8 = b"\xc3\x28"


def with_bad_text(message) -> bytes:
    body = message.SerializeToString()
    assert b"QQ" in body
    return body.replace(b"QQ", NOT_UTF8)


def bad_text_request() -> trace_service_pb2.ExportTraceServiceRequest:
    """20 spans; one's name and another's attribute value hold bytes that are not UTF-8; ids hold 0xff bytes
    (bytes by the schema: never touched)."""
    req = pb_request(span_ids(20, 35))
    spans = req.resource_spans[0].scope_spans[0].spans
    spans[0].trace_id = b"\xff" * 16
    spans[3].name = "tool QQ call"
    kv = spans[5].attributes.add()
    kv.key, kv.value.string_value = "tool.input", "caf QQ"
    return req


def test_text_that_is_not_utf8_is_stored_repaired_with_the_rest_of_its_request(tmp_path: Path):
    """Protobuf's parser refuses a whole request over one bad byte in a string: the 400 lost every span of it
    (an exporter does not retry a 400). The write-ahead log's path (execlog serve)."""
    data = tmp_path / "data"
    serve = ServeProcess(data)
    try:
        status, _, body = http("POST", serve.url + "/v1/traces", with_bad_text(bad_text_request()), PB)
        assert status == 200, body
        resp = partial(body)
        assert resp.partial_success.rejected_spans == 0
        assert resp.partial_success.error_message == \
            "2 text fields held bytes that are not UTF-8: stored with those bytes replaced by U+FFFD"
        assert post_pb(serve.url, pb_request(span_ids(4, 36)))[0] == 200
    finally:
        assert serve.stop() == 0, serve.stderr()
    assert len(stored_span_ids(data)) == 20 + 4


def test_text_that_is_not_utf8_is_stored_repaired_in_every_signal(server, store):
    """The same repair without a log (spans inserted before the answer), and for log records and metrics."""
    from tests.otlp_signals_support import sdk_logs, sdk_metrics

    status, _, body = http("POST", server.url + "/v1/traces", with_bad_text(bad_text_request()), PB)
    assert status == 200 and "2 text fields" in partial(body).partial_success.error_message
    rows = dict(store.pool.query(f"SELECT SpanName, SpanAttributes['tool.input'] FROM {store.table('otel_traces')} "
                                 "WHERE SpanName LIKE 'tool%' OR SpanAttributes['tool.input'] != ''").result_rows)
    assert rows == {"tool \ufffd( call": "", "step": "caf \ufffd("}
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')} "
                            f"WHERE TraceId = '{'ff' * 16}'").result_rows == [(1,)]

    logs = sdk_logs()
    logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value = "refused QQ"
    status, _, body = http("POST", server.url + "/v1/logs", with_bad_text(logs), PB)
    assert status == 200 and b"1 text field held bytes that are not UTF-8" in body
    assert store.pool.query(f"SELECT Body FROM {store.table('otel_logs')}").result_rows == [("refused \ufffd(",)]

    metrics = sdk_metrics()
    metrics.resource_metrics[0].scope_metrics[0].metrics[0].name = "tokens QQ"
    status, _, body = http("POST", server.url + "/v1/metrics", with_bad_text(metrics), PB)
    assert status == 200 and b"1 text field held bytes that are not UTF-8" in body
    names = {r[0] for r in store.pool.query(
        f"SELECT MetricName FROM {store.table('otel_metrics_histogram')}").result_rows}
    assert "tokens \ufffd(" in names

    status, _, body = http("POST", server.url + "/v1/traces", b"\x0a\xff\xff\xff\xff\x0f", PB)
    assert status == 400 and b"not a valid OTLP protobuf" in body  # not a message at all: refused as before


def test_only_a_text_fault_is_repaired(settings, store, monkeypatch):
    """The repair parses a body again and walks every field: it runs for a body refused over text that is not
    UTF-8, never for one refused for its size or shape (a 413 of a big body cost 7× its time)."""
    from dataclasses import replace

    from execlog_otel import server as server_mod
    from execlog_otel.ingest import otlp, utf8

    calls = []
    real = utf8.repair
    monkeypatch.setattr(utf8, "repair", lambda body, cls: calls.append(len(body)) or real(body, cls))
    running = server_mod.start(replace(settings, max_spans_per_request=50), store=store).start_background()
    try:
        big = pb_request(span_ids(51, 37))
        big.resource_spans[0].scope_spans[0].spans[0].name = "QQ"
        assert post_pb(running.url, big)[0] == 413  # valid protobuf, too many spans
        status, _, _ = http("POST", running.url + "/v1/traces", with_bad_text(big), PB)
        assert status == 413 and len(calls) == 1  # repaired, then held to the limit like any request
        assert post_pb(running.url, trace_service_pb2.ExportTraceServiceRequest.FromString(b"\x0a\x00"))[0] == 200
        assert http("POST", running.url + "/v1/traces", b"\x0a\xff\xff\xff\xff\x0f", PB)[0] == 400
        assert len(calls) == 1
    finally:
        running.close()
    with pytest.raises(otlp.NotUtf8):
        otlp.decode_request(with_bad_text(bad_text_request()), otlp.PROTOBUF)
