"""The requests Grafana's ClickHouse data source sends over HTTP, as its source builds them, answered by
``execlog serve``'s ClickHouse endpoint exactly as the engine answers them in-process.

From grafana/clickhouse-datasource (``pkg/plugin/driver.go``): protocol ``http`` uses clickhouse-go v2 with
GZIP compression. From clickhouse-go (``conn_http.go``, ``conn_http_query.go``, ``context.go``): every
request is ``POST <path>?client_protocol_version=54460&database=<db>&default_format=Native`` (+ the
query's settings: ``max_execution_time`` = the query timeout + 5 s) with the SQL as the body,
``X-ClickHouse-User``/``X-ClickHouse-Key`` (key only with a password), ``Accept-Encoding: gzip`` and its
User-Agent; the first request is the hello ``SELECT displayName(), version(), revision(), timezone()``,
read in the framing of protocol 54460, and every later Native result in the framing of the revision
the hello reported. Panel SQL is expanded as ``test_dashboards`` does (frontend variables and
``$__conditionalAll``, then the backend macros of ``pkg/macros/macros.go``); the OTel trace queries and
the ad-hoc filter are the ones ``src/data/sqlGenerator.ts`` and ``src/data/adHocFilter.ts`` produce.
"""

from __future__ import annotations

import struct
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

try:  # the transform takes the buffer class it was built with (C when compiled)
    from clickhouse_connect.driverc.buffer import ResponseBuffer
except ImportError:  # pragma: no cover
    from clickhouse_connect.driver.buffer import ResponseBuffer
from clickhouse_connect.driver.transform import NativeTransform

import sql_fixture_data as fx
import test_dashboards as dash

CLIENT_PROTOCOL_VERSION = 54460  # clickhouse-go: DBMS_TCP_PROTOCOL_VERSION
USER_AGENT = "grafana-clickhouse-datasource/4.11.0 clickhouse-go/2.47.0 (lv:go/1.24.4; os:linux)"
QUERY_TIMEOUT_S = 60  # the data source's default query timeout


class _Bytes:
    def __init__(self, data: bytes):
        self.data, self.last_message, self.exception_tag = data, None, None

    @property
    def gen(self):
        yield self.data

    def close(self) -> None:
        pass


class GrafanaHttpClient:
    """clickhouse-go's HTTP connection as the Grafana plugin opens it."""

    def __init__(self, url: str, database: str, user: str = "default", password: str = ""):
        self.base = url + "/?" + urllib.parse.urlencode(sorted({
            "client_protocol_version": str(CLIENT_PROTOCOL_VERSION), "database": database,
            "default_format": "Native"}.items()))
        self.headers = {"X-ClickHouse-User": user, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        if password:
            self.headers["X-ClickHouse-Key"] = password
        self.revision = CLIENT_PROTOCOL_VERSION  # until the hello says otherwise
        hello = self.query("SELECT displayName(), version(), revision(), timezone()")
        (self.display_name, self.version, revision, self.timezone), = hello
        self.revision = revision

    def post(self, sql: str) -> tuple[int, Any, bytes]:
        url = self.base + "&" + urllib.parse.urlencode({"max_execution_time": str(QUERY_TIMEOUT_S + 5)})
        req = urllib.request.Request(url, data=sql.encode(), headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def query(self, sql: str) -> list[tuple]:
        status, headers, body = self.post(sql)
        assert status == 200, body
        assert headers.get("Content-Encoding") is None  # clickhouse-go never sends enable_http_compression
        return read_native(body, self.revision)


def read_native(body: bytes, revision: int) -> list[tuple]:
    """clickhouse-go's ``Block.Decode``: block info when revision > 0, a custom-serialization flag per column
    from 54454. Checked here for the hello; plain Native (revision 0) is decoded by clickhouse-connect."""
    if revision == 0:
        return [tuple(r) for r in NativeTransform.parse_response(ResponseBuffer(_Bytes(body))).result_rows] \
            if body else []
    pos = 0

    def uvarint() -> int:
        nonlocal pos
        shift = value = 0
        while True:
            b = body[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    def string() -> str:
        nonlocal pos
        n = uvarint()
        pos += n
        return body[pos - n:pos].decode()

    assert (uvarint(), body[pos]) == (1, 0)  # field 1: is_overflows
    pos += 1
    assert uvarint() == 2 and struct.unpack_from("<i", body, pos)[0] == -1
    pos += 4
    assert uvarint() == 0
    columns, rows = uvarint(), uvarint()
    assert rows == 1
    values = []
    for _ in range(columns):
        string()
        type_name = string()
        assert body[pos] == 0  # no custom serialization
        pos += 1
        if type_name == "UInt32":
            values.append(struct.unpack_from("<I", body, pos)[0])
            pos += 4
        else:
            values.append(string())
    assert pos == len(body)
    return [tuple(values)]


@pytest.fixture
def grafana(server, store):
    return GrafanaHttpClient(server.clickhouse_http.url, store.database)


def in_process(store, sql: str) -> list[tuple]:
    return [tuple(r) for r in store.pool.query(sql).result_rows]


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    return sorted(map(repr, got)) == sorted(map(repr, want))


def test_hello_ping_and_version(grafana):
    assert grafana.revision == 0 and grafana.version and grafana.timezone
    assert grafana.query("SELECT 1") == [(1,)]
    assert grafana.query("SELECT version()") == [(grafana.version,)]


@pytest.mark.parametrize("name", dash.FILES)
def test_every_dashboard_panel_and_variable_query(grafana, store, name):
    loaded = fx.load(store)
    d = dash.load_dashboards()[name]
    t_from, t_to = loaded.t0 - timedelta(hours=1), loaded.t0 + timedelta(hours=2)
    current: dict[str, Any] = {"database": store.database, "viewer_url": "http://viewer.test",
                               "kind": ["$__all"], "name": ["$__all"], "service": ["$__all"],
                               "trace_id": loaded.tid("A3")}
    options = dash._options(store, d, current, t_from, t_to)
    queries = [dash.expand(p["targets"][0]["rawSql"], current, options, t_from, t_to) for p in d["panels"]]
    queries += [dash.expand(v["definition"], current, options, t_from, t_to)
                for v in d["templating"]["list"] if v.get("type") == "query"]
    assert len(queries) > 5
    for sql in queries:
        got = grafana.query(sql)
        assert same_rows(got, in_process(store, sql)), sql
    assert any(grafana.query(sql) for sql in queries)  # the fixture's executions are in range


def test_otel_trace_queries(grafana, store):
    """The plugin's OTel trace search and trace-id queries (sqlGenerator.ts), with the time macros expanded."""
    loaded = fx.load(store)
    db = store.database
    t_from, t_to = int((loaded.t0 - timedelta(hours=1)).timestamp()), int((loaded.t0 + timedelta(hours=2)).timestamp())
    search = (f'SELECT "TraceId" as traceID, "ServiceName" as serviceName, "SpanName" as operationName, '
              f'"Timestamp" as startTime, multiply("Duration", 0.000001) as duration FROM "{db}"."otel_traces" '
              f"WHERE ( Timestamp >= toDateTime({t_from}) AND Timestamp <= toDateTime({t_to}) ) "
              "AND ( ParentSpanId = '' ) AND ( Duration > 0 ) ORDER BY Timestamp DESC, Duration DESC LIMIT 1000")
    roots = grafana.query(search)
    assert roots and same_rows(roots, in_process(store, search))
    trace = (f"WITH '{loaded.tid('A3')}' as __gf_trace_id, (SELECT min(Start) FROM "
             f"\"{db}\".\"otel_traces_trace_id_ts\" WHERE TraceId = __gf_trace_id) as __gf_trace_start, "
             "(SELECT max(End) + 1 FROM "
             f"\"{db}\".\"otel_traces_trace_id_ts\" WHERE TraceId = __gf_trace_id) as __gf_trace_end "
             'SELECT "TraceId" as traceID, "SpanId" as spanID, "ParentSpanId" as parentSpanID, '
             '"ServiceName" as serviceName, "SpanName" as operationName, '
             'multiply(toUnixTimestamp64Nano("Timestamp"), 0.000001) as startTime, '
             'multiply("Duration", 0.000001) as duration, '
             "arrayMap(key -> map('key', key, 'value',\"SpanAttributes\"[key]), mapKeys(\"SpanAttributes\")) as tags, "
             "arrayMap(key -> map('key', key, 'value',\"ResourceAttributes\"[key]), mapKeys(\"ResourceAttributes\")) "
             "as serviceTags, if(\"StatusCode\" IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) as statusCode, "
             "arrayMap((name, timestamp, attributes) -> tuple(name, toString(toUnixTimestamp64Milli(timestamp)), "
             "arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)))::Tuple(name String, "
             "timestamp String, fields Array(Map(String, String))), \"Events\".Name, \"Events\".Timestamp, "
             "\"Events\".Attributes) AS logs, arrayMap((traceID, spanID, attributes) -> tuple(traceID, spanID, "
             "arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)))::Tuple(traceID String, "
             "spanID String, tags Array(Map(String, String))), \"Links\".TraceId, \"Links\".SpanId, "
             "\"Links\".Attributes) AS references, \"SpanKind\" as kind, \"StatusMessage\" as statusMessage, "
             "\"ScopeName\" as instrumentationLibraryName, \"ScopeVersion\" as instrumentationLibraryVersion, "
             "\"TraceState\" as traceState "
             f"FROM \"{db}\".\"otel_traces\" WHERE traceID = __gf_trace_id AND \"Timestamp\" >= __gf_trace_start "
             "AND \"Timestamp\" <= __gf_trace_end")
    spans = grafana.query(trace)
    assert len(spans) == 6 and same_rows(spans, in_process(store, trace))  # A3: root + 5 steps


def test_ad_hoc_filter_and_schema_queries(grafana, store):
    """adHocFilter.ts appends ``settings additional_table_filters``; the query builder lists the schema."""
    fx.load(store)
    base = f'SELECT ServiceName, count() AS spans FROM "{store.database}"."otel_traces" GROUP BY ServiceName'
    filtered = grafana.query(base + " settings additional_table_filters="
                                    "{'otel_traces' : ' ServiceName = \\'billing\\' '}")
    assert [row[0] for row in filtered] == ["billing"]
    assert len(grafana.query(base)) == 3
    map_key = (base + " settings additional_table_filters={'otel_traces' : "
               "' ResourceAttributes[\\'service.name\\'] = \\'billing\\' '}")
    assert [row[0] for row in grafana.query(map_key)] == ["billing"]
    assert (store.database,) in grafana.query("SHOW DATABASES")
    assert ("otel_traces",) in grafana.query(f'SHOW TABLES FROM "{store.database}"')
    columns = grafana.query(f'DESC TABLE "{store.database}"."otel_traces"')
    assert ("TraceId", "String") in [row[:2] for row in columns]
    assert grafana.query(f"SELECT name, type, table FROM system.columns WHERE database = '{store.database}' "
                         "AND table = 'otel_traces' AND name = 'Duration'") == [("Duration", "UInt64", "otel_traces")]
    # Grafana runs a panel's SQL as written: writes and table functions are refused in ClickHouse's words.
    status, headers, body = grafana.post("SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
