"""Exporter and receiver: golden rows, both OTLP encodings, gzip, bad payloads, and one mapping for all paths."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.error
import urllib.request

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from tests.conftest import new_store

from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.store.rows import COLUMNS

ROW_SQL = "SELECT {cols} FROM {table} ORDER BY TraceId, SpanId"


def make_spans():
    """A small trace exercising every column: kinds, status, typed attributes, events, links, trace state."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "golden-svc", "deployment": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("golden.scope", "1.2.3")
    with tracer.start_as_current_span("root op", kind=SpanKind.SERVER) as root:
        root.set_attributes({"s": "text", "i": 5, "f": 1.5, "b": True, "ints": [1, 2], "strs": ["a", "b"],
                             "big": 1e20, "execlog.kind": "agent"})
        root.add_event("checkpoint", {"n": 1})
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT,
                                          links=[Link(root.get_span_context(), {"why": "retry"})]) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    return memory.get_finished_spans()


def fetch_rows(store):
    cols = ", ".join(f"`{c}`" for c in COLUMNS).replace("`Timestamp`", "toUnixTimestamp64Nano(Timestamp)")
    cols = cols.replace("`Events.Timestamp`", "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`)")
    sql = ROW_SQL.format(cols=cols, table=store.table("otel_traces"))
    return [tuple(r) for r in store.pool.query(sql).result_rows]


def test_exporter_rows_match_golden_values(store):
    spans = make_spans()
    exporter = ClickHouseSpanExporter(store=store)
    assert exporter.export(spans).name == "SUCCESS"
    rows = {r[5]: dict(zip(COLUMNS, r, strict=True)) for r in fetch_rows(store)}
    root_span = next(s for s in spans if s.name == "root op")
    child_span = next(s for s in spans if s.name == "child")
    root, child = rows["root op"], rows["child"]
    trace_hex = format(root_span.context.trace_id, "032x")
    assert root["TraceId"] == child["TraceId"] == trace_hex
    assert root["SpanId"] == format(root_span.context.span_id, "016x")
    assert root["ParentSpanId"] == "" and child["ParentSpanId"] == root["SpanId"]
    assert root["Timestamp"] == root_span.start_time
    assert root["Duration"] == root_span.end_time - root_span.start_time
    assert (root["SpanKind"], child["SpanKind"]) == ("Server", "Client")
    assert (root["StatusCode"], child["StatusCode"], child["StatusMessage"]) == ("Unset", "Error", "boom")
    assert root["ServiceName"] == "golden-svc"
    assert root["ResourceAttributes"]["deployment"] == "test"
    assert (root["ScopeName"], root["ScopeVersion"]) == ("golden.scope", "1.2.3")
    assert {k: root["SpanAttributes"][k] for k in ("s", "i", "f", "b", "ints", "strs", "big")} == {
        "s": "text", "i": "5", "f": "1.5", "b": "true", "ints": "[1,2]", "strs": '["a","b"]',
        "big": "100000000000000000000"}
    assert root["Events.Name"] == ["checkpoint"] and root["Events.Attributes"] == [{"n": "1"}]
    assert root["Events.Timestamp"] == [root_span.events[0].timestamp]
    assert child["Links.TraceId"] == [trace_hex] and child["Links.SpanId"] == [root["SpanId"]]
    assert child["Links.Attributes"] == [{"why": "retry"}]
    assert child_span.status.status_code == StatusCode.ERROR


def _otlp_json(spans) -> bytes:
    """OTLP JSON of the real SDK encoder's request: protobuf JSON mapping with hex ids, as OTLP/HTTP requires."""
    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for rs in data["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in sp:
                        sp[key] = base64.b64decode(sp[key]).hex()
                for link in sp.get("links", []):
                    for key in ("traceId", "spanId"):
                        link[key] = base64.b64decode(link[key]).hex()
    return json.dumps(data).encode()


def _post(url: str, body: bytes, content_type: str, encoding: str | None = None) -> tuple[int, bytes, str]:
    req = urllib.request.Request(url + "/v1/traces", data=body, method="POST",
                                 headers={"Content-Type": content_type, **({"Content-Encoding": encoding}
                                                                          if encoding else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


@pytest.fixture
def three_stores(ch_client):
    stores = [new_store(ch_client) for _ in range(3)]
    yield stores
    for s in stores:
        ch_client.command(f"DROP DATABASE IF EXISTS {s.database} SYNC")


def test_exporter_protobuf_and_json_receivers_write_identical_rows(three_stores, start_server):
    spans = make_spans()
    direct, via_proto, via_json = three_stores
    ClickHouseSpanExporter(store=direct).export(spans)
    s1, s2 = start_server(store=via_proto), start_server(store=via_json)
    # The real OTLP/HTTP exporter (protobuf, gzip-compressed).
    exporter = OTLPSpanExporter(endpoint=s1.url + "/v1/traces", compression=Compression.Gzip)
    assert exporter.export(spans).name == "SUCCESS"
    status, body, ctype = _post(s2.url, _otlp_json(spans), "application/json")
    assert status == 200 and ctype.startswith("application/json") and json.loads(body) == {}
    assert fetch_rows(direct) == fetch_rows(via_proto) == fetch_rows(via_json)
    assert len(fetch_rows(direct)) == 2


def test_api_lists_received_executions_with_aggregates(server, store):
    provider = TracerProvider(resource=Resource.create({"service.name": "api-svc"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=server.url + "/v1/traces")))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("support") as root:
        root.set_attributes({"execlog.kind": "agent", "execlog.execution.name": "support-agent",
                             "execlog.request_id": "req-77"})
        for model, tin, tout in (("gpt-x", 100, 20), ("gpt-y", 50, 5)):
            with tracer.start_as_current_span("chat") as s:
                s.set_attributes({"gen_ai.request.model": model, "gen_ai.usage.input_tokens": tin,
                                  "gen_ai.usage.output_tokens": tout})
        with tracer.start_as_current_span("tool") as s:
            s.set_attributes({"gen_ai.tool.name": "lookup", "execlog.connector": "CRM"})
            s.set_status(Status(StatusCode.ERROR, "404"))
    provider.shutdown()
    with urllib.request.urlopen(server.url + "/api/executions?kind=agent&q=req-77") as resp:
        data = json.load(resp)
    assert data["count"] == 1
    item = data["items"][0]
    assert item["name"] == "support-agent" and item["kind"] == "agent" and item["status"] == "Success"
    assert item["steps"] == 3 and item["failed_steps"] == 1
    assert item["total_tokens"] == 175 and item["models"] == ["gpt-x", "gpt-y"]
    assert item["tools"] == ["lookup"] and item["connectors"] == ["CRM"] and item["service"] == "api-svc"
    assert item["id"] == item["trace_id"] and len(item["id"]) == 32
    with urllib.request.urlopen(server.url + f"/api/executions/{item['id']}") as resp:
        detail = json.load(resp)
    assert [s["name"] for s in detail["steps"]] == ["chat", "chat", "tool"]
    assert detail["steps"][2]["status"] == "Failed" and detail["steps"][2]["error"] == "404"


@pytest.mark.parametrize("body,ctype,encoding,status,message", [
    (b"\xff\x00garbage", "application/x-protobuf", None, 400, "not a valid OTLP protobuf"),
    (b"{not json", "application/json", None, 400, "not valid JSON"),
    (b'{"resourceSpans": "nope"}', "application/json", None, 400, "not a valid OTLP JSON"),
    (b"[]", "application/json", None, 400, "JSON object"),
    (b"hello", "text/plain", None, 415, "unsupported Content-Type"),
    (b"\x1f\x8b\x08\x00garbage", "application/x-protobuf", "gzip", 400, "not valid gzip"),
    (b"abc", "application/x-protobuf", "br", 415, "unsupported Content-Encoding"),
])
def test_bad_payloads_are_rejected_and_nothing_is_written(server, store, body, ctype, encoding, status, message):
    code, resp, _ = _post(server.url, body, ctype, encoding)
    assert code == status
    assert message in resp.decode("utf-8", "replace")
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 0
    ok, _, _ = _post(server.url, trace_service_pb2.ExportTraceServiceRequest().SerializeToString(),
                     "application/x-protobuf")
    assert ok == 200  # still serving


def test_oversized_and_gzip_bomb_bodies_get_413(server, store):
    limit = server.settings.max_body_bytes
    code, resp, _ = _post(server.url, b"\0" * (limit + 10), "application/x-protobuf")
    assert code == 413 and b"exceeds the limit" in resp
    bomb = gzip.compress(b"\0" * (limit + 10))
    assert len(bomb) < limit
    code, resp, _ = _post(server.url, bomb, "application/x-protobuf", "gzip")
    assert code == 413 and b"exceeds the limit" in resp


def test_invalid_ids_give_partial_success(server, store):
    spans = make_spans()
    req = encode_spans(spans)
    req.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\x01\x02"
    code, body, _ = _post(server.url, req.SerializeToString(), "application/x-protobuf")
    assert code == 200
    resp = trace_service_pb2.ExportTraceServiceResponse.FromString(body)
    assert resp.partial_success.rejected_spans == 1
    assert "trace id must be 16" in resp.partial_success.error_message
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 1
