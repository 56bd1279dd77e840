"""Bad input never breaks the server: hostile OTLP bodies get a clear 4xx with nothing written, and every
page and API route answers any query string and path with 2xx/3xx/4xx, never 5xx."""

from __future__ import annotations

import gzip
import json
import zlib
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from tests.hostile_data import SQL, write_hostile_executions
from tests.reliability_support import otlp_json, span_ids

from execlog_otel.ingest import RECEIVER_ENDPOINTS
from execlog_otel.viewer.app import create_app

SAMPLE_ARGS = {"execution_id": "0123456789abcdef0123456789abcdef", "name": "agent-x", "filename": "css/viewer.css",
               "chart": "status_over_time"}
QUERY_KEYS = ["kind", "status", "name", "q", "service", "from", "to", "limit", "cursor", "sort", "order",
              "attempt", "id", "ids", "format", "check_runner", "tab", "step", "page", "x"]
NASTY = st.sampled_from(["", "0", "-1", "999999999999999999999", "1e309", "NaN", "null", "[]", "{}", "%00", "\x00",
                         "'", "\"", "\\", "%", "_", "' OR 1=1 --", "<script>", "../../etc/passwd", "\ud7ff",
                         "2026-13-45T99:99:99Z", "Failed,Running", "all", "desc", "duration", "agent",
                         "AAAA", "W10", "eyJ4IjoxfQ", "0123456789abcdef0123456789abcdef", "x" * 500])
VALUES = st.one_of(NASTY, st.text(max_size=60))
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)  # lone surrogates included


@pytest.fixture
def app(store, settings):
    write_hostile_executions(store)
    app = create_app(settings, store)
    app.testing = False  # errors become responses, as in production
    return app


def span_rows(store) -> int:
    return int(store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0])


# --- the receiver --------------------------------------------------------------------------------------

def _post(client, body: bytes, content_type: str = "application/json", **headers):
    return client.post("/v1/traces", data=body, headers={"Content-Type": content_type, **headers})


def test_receiver_rejects_bad_bodies_clearly_and_writes_nothing(app, store):
    client = app.test_client()
    before = span_rows(store)
    limit = app.config["EXECLOG_SETTINGS"].max_body_bytes
    bomb = gzip.compress(b"\x00" * (limit + 1024 * 1024))  # ~17 MiB of zeros in a few KiB
    cases = [
        (b"\x0a\xff\xff\xff\xff\x0f", "application/x-protobuf", {}, 400, "not a valid OTLP protobuf"),
        (b"{not json", "application/json", {}, 400, "not valid JSON"),
        (b"[1, 2, 3]", "application/json", {}, 400, "JSON object"),
        (json.dumps({"resourceSpans": "nope"}).encode(), "application/json", {}, 400, "OTLP JSON"),
        # A span that does not decode is refused alone, in partial_success (here: the request's only span).
        (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 12, "spanId": True}]}]}]}).encode(),
         "application/json", {}, 200, "not valid OTLP JSON: Field 'trace_id'"),
        (b"\xff\xfe\x00garbage", "application/json", {}, 400, "JSON"),
        (b"x" * (limit + 1), "application/json", {}, 413, "exceeds the limit"),
        (bomb, "application/json", {"Content-Encoding": "gzip"}, 413, "exceeds the limit"),
        (b"\x1f\x8b\x08\x00garbage", "application/json", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (zlib.compress(b"{}")[:-3], "application/json", {"Content-Encoding": "deflate"}, 400, "truncated"),
        (b"{}", "application/json", {"Content-Encoding": "br"}, 415, "Content-Encoding"),
        (b"{}", "text/plain", {}, 415, "Content-Type"),
    ]
    for body, ctype, headers, status, message in cases:
        resp = _post(client, body, ctype, **headers)
        assert resp.status_code == status, (message, resp.status_code, resp.data[:200])
        text = resp.data.decode(errors="replace")
        assert message in text, (message, text[:200])
    assert span_rows(store) == before
    # Invalid ids are rejected span by span (OTLP partial success); the valid ones of the request are kept.
    good = span_ids(2, 40)
    bad_ids = [("00" * 16, "11" * 8), ("ab" * 15, "22" * 8), ("cd" * 16, "00" * 8)]
    resp = _post(client, otlp_json(good + bad_ids))
    assert resp.status_code == 200
    assert resp.get_json()["partialSuccess"]["rejectedSpans"] == "3"
    assert "trace id must be 16 non-zero bytes" in resp.get_json()["partialSuccess"]["errorMessage"]
    assert span_rows(store) == before + 2
    # And it keeps serving.
    assert client.get("/api/health").status_code == 200
    assert _post(client, otlp_json(span_ids(1, 41))).status_code == 200


@hsettings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=400), protobuf=st.booleans(), gzipped=st.booleans())
def test_receiver_answers_any_bytes_with_200_or_4xx(app, body, protobuf, gzipped):
    client = app.test_client()
    data = gzip.compress(body) if gzipped else body
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    resp = _post(client, data, "application/x-protobuf" if protobuf else "application/json", **headers)
    assert resp.status_code == 200 or 400 <= resp.status_code < 500, (resp.status_code, resp.data[:300])


@hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(trace_id=st.binary(max_size=20), span_id=st.binary(max_size=10), parent=st.binary(max_size=10),
       kind=st.integers(min_value=0, max_value=50), code=st.integers(min_value=0, max_value=50),
       start=st.integers(min_value=0, max_value=2**64 - 1), end=st.integers(min_value=0, max_value=2**64 - 1),
       name=st.text(max_size=30), value=st.one_of(st.text(max_size=30), st.integers(-2**63, 2**63 - 1),
                                                  st.floats(), st.booleans(), st.binary(max_size=10)))
def test_receiver_survives_odd_but_well_formed_protobuf(app, trace_id, span_id, parent, kind, code, start, end, name,
                                                        value):
    req = trace_service_pb2.ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.parent_span_id = trace_id, span_id, parent
    span.kind, span.status.code = kind, code
    span.start_time_unix_nano, span.end_time_unix_nano, span.name = start, end, name
    attr = span.attributes.add()
    attr.key = name
    field = {str: "string_value", int: "int_value", float: "double_value", bool: "bool_value",
             bytes: "bytes_value"}[type(value)]
    setattr(attr.value, field, value)
    resp = app.test_client().post("/v1/traces", data=req.SerializeToString(),
                                  headers={"Content-Type": "application/x-protobuf"})
    assert resp.status_code == 200 or 400 <= resp.status_code < 500, (resp.status_code, resp.data[:300])


# --- every page and API route --------------------------------------------------------------------------

def _get_routes(app) -> list[tuple[str, list[str]]]:
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            out.append((rule.rule, sorted(rule.arguments)))
    return out


@pytest.mark.slow
@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_get_route_answers_any_query_without_a_server_error(app, data):
    client = app.test_client()
    for rule, args in _get_routes(app):
        path = rule
        for arg in args:
            value = data.draw(st.one_of(st.just(SAMPLE_ARGS[arg]), VALUES.filter(lambda v: v and "/" not in v
                                                                                  and v not in (".", ".."))))
            value = quote(value, safe="")
            path = path.replace(f"<path:{arg}>", value).replace(f"<{arg}>", value)
        query = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_KEYS), VALUES), max_size=5))
        resp = client.get(path, query_string=query)
        assert resp.status_code < 500, (rule, path, query, resp.status_code, resp.data[:300])


def test_search_matches_sql_metacharacters_literally(app, store):
    client = app.test_client()
    everything = client.get("/api/executions").get_json()
    assert everything["count"] == 2
    # The hostile executions carry SQL in their request id; nothing else does, and nothing is injected.
    for q, expected in ((SQL, 2), ("' OR '1'='1", 2), ("%", 2), ("_\\", 2), ("' OR 1=1 --", 0),
                        ("%%%", 0), ("\\'", 0), ("*", 0), (".*", 0)):
        resp = client.get("/api/executions", query_string={"q": q})
        assert resp.status_code == 200, (q, resp.data)
        assert resp.get_json()["count"] == expected, q
    # The tables are all still there.
    assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] > 0


def test_an_unpaired_surrogate_refuses_its_span_not_the_store(app, store):
    """A lone UTF-16 surrogate failed at the insert (a store error); it is refused at decode: the span that
    holds it alone (the request's other spans stored), the whole request when the resource holds it."""
    client = app.test_client()
    before = span_rows(store)
    ids = span_ids(3, 42)
    data = json.loads(otlp_json(ids))
    data["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["name"] = "\ud800 half a pair"
    resp = _post(client, json.dumps(data).encode())
    assert resp.status_code == 200, resp.data
    partial = resp.get_json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "surrogate" in partial["errorMessage"]
    assert span_rows(store) == before + 2
    body = otlp_json(span_ids(1, 43), service="\ud800 half a pair")
    resp = _post(client, body)
    assert resp.status_code == 400 and "surrogate" in resp.get_json()["message"]
    paired = otlp_json(span_ids(1, 44)).replace(b'"name": "step"', b'"name": "\\ud83d\\ude00 a pair"')
    assert _post(client, paired).status_code == 200
    assert span_rows(store) == before + 3


def test_a_json_span_that_does_not_decode_is_refused_alone(app, store):
    """One span with a non-hex id, a number that is not one or an unknown enum name refused the whole request
    (400, every span lost); enum names (protobuf's JSON mapping writes them) and unknown enum numbers refused it
    too, while a protobuf request's were read. Now each such span is refused alone, with the reason."""
    client = app.test_client()
    data = json.loads(otlp_json(span_ids(7, 45)))
    spans = data["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1].update(name="bad id", traceId="zz" * 16)
    spans[2].update(name="bad time", startTimeUnixNano="soon")
    spans[3].update(name="bad kind", kind="SPAN_KIND_BOGUS")
    spans[4].update(name="server", kind="SPAN_KIND_SERVER", status={"code": "STATUS_CODE_ERROR"})
    spans[5].update(name="future kind", kind=99, status={"code": 7})
    resp = _post(client, json.dumps(data).encode())
    assert resp.status_code == 200, resp.data
    partial = resp.get_json()["partialSuccess"]
    assert partial["rejectedSpans"] == "3"
    for name, why in (("bad id", "trace_id"), ("bad time", "start_time_unix_nano"), ("bad kind", "kind")):
        assert f"span {name!r}: not valid OTLP JSON" in partial["errorMessage"] and why in partial["errorMessage"]
    rows = store.pool.query(f"SELECT SpanName, SpanKind, StatusCode FROM {store.table('otel_traces')} "
                            f"WHERE SpanName IN ('step', 'server', 'future kind') ORDER BY SpanName").result_rows
    assert rows == [("future kind", "Unspecified", "Unset"), ("server", "Server", "Error"),
                    ("step", "Internal", "Unset"), ("step", "Internal", "Unset")]


def test_receiver_caps_oversized_attribute_values(app, store):
    cap = app.config["EXECLOG_SETTINGS"].max_attribute_bytes
    huge = "é" * cap  # 2 bytes per character: twice the cap
    ids = span_ids(1, 43)
    resp = _post(app.test_client(), otlp_json(ids, {"big": huge, "small": "ok"}))
    assert resp.status_code == 200
    attrs = store.pool.query(f"SELECT SpanAttributes FROM {store.table('otel_traces')} WHERE SpanId = {{s:String}}",
                               parameters={"s": ids[0][1]}).result_rows[0][0]
    assert len(attrs["big"].encode()) <= cap and attrs["big"] == "é" * (cap // 2)
    assert attrs["big.truncated"] == "true" and attrs["big.original_size"] == str(2 * cap)
    assert attrs["small"] == "ok" and "small.truncated" not in attrs


@hsettings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=ANY_TEXT, key=st.text(max_size=10), value=st.one_of(ANY_TEXT, st.integers(),
                                                                             st.floats(), st.none(), st.booleans()),
       kind=st.one_of(st.integers(-5, 99), st.text(max_size=5)), start=st.one_of(st.text(max_size=25),
                                                                                  st.integers(-10, 2**70)))
def test_receiver_answers_any_otlp_shaped_json_with_200_or_4xx(app, name, key, value, kind, start):
    span = {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708", "name": name,
            "kind": kind, "startTimeUnixNano": start, "endTimeUnixNano": "5",
            "attributes": [{"key": key, "value": {"stringValue": value}}]}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    resp = _post(app.test_client(), body)
    assert resp.status_code == 200 or 400 <= resp.status_code < 500, (resp.status_code, resp.data[:300])


# --- every state-changing route ------------------------------------------------------------------------

DOCUMENTED_5XX = {502, 503, 504}  # runner unreachable/busy, store unavailable, query time budget (README)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
JSON_KEYS = st.sampled_from(["ids", "attempt", "attempts", "check_runner", "id", "query", "x"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | VALUES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_KEYS | st.text(max_size=8), inner, max_size=4),
    max_leaves=15)
PLAUSIBLE = st.fixed_dictionaries(
    {"ids": st.lists(st.sampled_from([SAMPLE_ARGS["execution_id"], "0" * 32, "x", ""]) | st.text(max_size=34),
                     max_size=3)},
    optional={"attempt": st.integers(-3, 2000) | VALUES, "check_runner": st.booleans() | VALUES,
              "attempts": st.dictionaries(st.text(max_size=34), st.integers(-3, 5) | VALUES, max_size=2)})


def _state_changing_routes(app) -> list[tuple[str, str, list[str]]]:
    return [(method, rule.rule, sorted(rule.arguments)) for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods & STATE_CHANGING) if rule.endpoint not in RECEIVER_ENDPOINTS]


def _body(data) -> tuple[bytes, str | None]:
    kind = data.draw(st.sampled_from(["json", "plausible", "bytes", "form", "deep", "none"]))
    ctype = data.draw(st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                                       "application/x-www-form-urlencoded", "multipart/form-data", None]))
    if kind == "json":
        return json.dumps(data.draw(JSON_VALUES)).encode(), ctype
    if kind == "plausible":
        return json.dumps(data.draw(PLAUSIBLE)).encode(), ctype
    if kind == "bytes":
        return data.draw(st.binary(max_size=200)), ctype
    if kind == "form":
        fields = data.draw(st.dictionaries(st.sampled_from(["user", "password", "token", "csrf_token", "next", "ids"]),
                                           VALUES, max_size=4))
        return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in fields.items()).encode(), ctype
    if kind == "deep":
        depth = data.draw(st.integers(30, 5000))
        return b'{"ids": ' + b"[" * depth + b"]" * depth + b"}", ctype
    return b"", ctype


@hsettings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_state_changing_route_answers_any_body_without_an_undocumented_server_error(app, data):
    client = app.test_client()
    token = client.get("/api/session").get_json()["csrf_token"]
    routes = _state_changing_routes(app)
    assert len(routes) >= 5  # retry, preview, bulk, code.zip, logout, login ...
    for method, rule, args in routes:
        path = rule
        for arg in args:
            value = quote(data.draw(st.one_of(st.just(SAMPLE_ARGS[arg]), VALUES.filter(bool))), safe="")
            path = path.replace(f"<path:{arg}>", value).replace(f"<{arg}>", value)
        body, ctype = _body(data)
        headers = {"Content-Type": ctype} if ctype else {}
        if data.draw(st.booleans()):
            headers["X-CSRF-Token"] = data.draw(st.sampled_from([token, "x" * 43, ""]))
        resp = client.open(path, method=method, data=body, headers=headers)
        assert resp.status_code < 500 or resp.status_code in DOCUMENTED_5XX, \
            (method, path, body[:100], headers, resp.status_code, resp.data[:300])


def test_deep_or_huge_json_on_every_post_route_is_a_4xx_with_a_message(app):
    client = app.test_client()
    token = client.get("/api/session").get_json()["csrf_token"]
    deep = b'{"ids": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    huge = json.dumps({"ids": ["0" * 32] * 60_000}).encode()  # about 2 MB
    routes = [(m, r.replace("<execution_id>", SAMPLE_ARGS["execution_id"]))
              for m, r, _ in _state_changing_routes(app) if m == "POST"]
    for method, path in routes:
        for body, status in ((deep, 400), (huge, 413)):
            resp = client.open(path, method=method, data=body,
                               headers={"Content-Type": "application/json", "X-CSRF-Token": token})
            assert resp.status_code == status, (path, resp.status_code, resp.data[:200])
            assert resp.get_json()["error"], path
