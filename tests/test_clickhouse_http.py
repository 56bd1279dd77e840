"""``execlog serve``'s ClickHouse HTTP endpoint with real clients: clickhouse-connect over http://, plain
HTTP requests as ClickHouse documents them, and the viewer reading the store through it."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import clickhouse_connect
import lz4.frame
import pytest

import sql_fixture_data as fx
from execlog_otel.clickhouse_http import framing
from execlog_otel.clickhouse_http.encoding import zstd
from execlog_otel.clickhouse_http.errors import ChError


@pytest.fixture
def loaded(store):
    return fx.load(store)


@pytest.fixture
def ch_url(server) -> str:
    assert server.clickhouse_http is not None and server.clickhouse_http.url
    return server.clickhouse_http.url


def http(url: str, path: str = "/", *, query: str | None = None, body: bytes | None = None,
         headers: dict[str, str] | None = None, **params: str) -> tuple[int, Any, bytes]:
    if query is not None:
        params["query"] = query
    target = url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(target, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_ping_and_select_one(ch_url):
    assert http(ch_url, "/ping")[2] == b"Ok.\n"
    assert http(ch_url)[2] == b"Ok.\n"
    status, headers, body = http(ch_url, query="SELECT 1")
    assert (status, body) == (200, b"1\n")
    assert headers["X-ClickHouse-Format"] == "TabSeparated"
    assert json.loads(headers["X-ClickHouse-Summary"])["written_rows"] == "0"
    assert headers["X-ClickHouse-Query-Id"]


def test_query_in_body_database_formats_and_params(ch_url, store, loaded):
    status, headers, body = http(ch_url, body=b"SELECT count() AS n FROM otel_traces", database=store.database,
                                 default_format="JSONEachRow")
    assert status == 200 and headers["X-ClickHouse-Format"] == "JSONEachRow"
    spans = json.loads(body)["n"]
    assert int(spans) == len(loaded.spans) if hasattr(loaded, "spans") else int(spans) > 0
    # The FORMAT clause wins over default_format; the URL's query continues in the body.
    status, headers, body = http(ch_url, query="SELECT ServiceName, count() AS n FROM otel_traces",
                                 body=b"GROUP BY ServiceName ORDER BY ServiceName FORMAT JSON",
                                 default_format="CSV")
    assert status == 200 and headers["X-ClickHouse-Format"] == "JSON"
    assert headers["Content-Type"].startswith("application/json")
    services = [row["ServiceName"] for row in json.loads(body)["data"]]
    assert services == sorted({fx.AGENTS_SVC, fx.CRM_SVC, fx.BILLING_SVC} & set(services)) and services
    # param_<name> binds {name:Type} server-side: the value is data, not SQL.
    hostile = "x' OR 1=1 --"
    status, _, body = http(ch_url, query="SELECT count() FROM otel_traces WHERE ServiceName = {svc:String}",
                           param_svc=hostile)
    assert (status, body) == (200, b"0\n")
    status, _, body = http(ch_url, query="SELECT {a:String} AS a, {n:UInt8} + 1 AS n FORMAT TSV",
                           param_a="tab\\there", param_n="41")
    assert body == b"tab\\there\t42\n"


@pytest.mark.parametrize("fmt", ["TabSeparatedWithNamesAndTypes", "CSVWithNames", "JSONCompact", "Native",
                                 "RowBinaryWithNamesAndTypes", "Parquet", "Arrow", "ArrowStream"])
def test_binary_and_text_formats_pass_through(ch_url, ch_client, fmt):
    sql = "SELECT number AS n, toString(number) AS s FROM numbers(100000)"
    status, headers, body = http(ch_url, query=f"{sql} FORMAT {fmt}")
    assert status == 200 and headers["X-ClickHouse-Format"] == fmt
    expected = ch_client.raw_query(sql, fmt=fmt)
    if fmt == "JSONCompact":  # its statistics (elapsed time) differ from run to run
        body, expected = json.loads(body)["data"], json.loads(expected)["data"]
    assert body == expected  # the engine's bytes, as they are


def test_compression_both_ways(ch_url):
    body = gzip.compress(b"SELECT number FROM numbers(1000) FORMAT CSV")
    status, headers, out = http(ch_url, body=body, enable_http_compression="1",
                                headers={"Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(out) == "".join(f"{i}\n" for i in range(1000)).encode()
    for encoding, packed in (("deflate", zlib.compress(b"SELECT 7")), ("zstd", zstd.compress(b"SELECT 7")),
                             ("lz4", lz4.frame.compress(b"SELECT 7"))):
        status, headers, out = http(ch_url, body=packed, enable_http_compression="1",
                                    headers={"Content-Encoding": encoding, "Accept-Encoding": encoding})
        assert status == 200 and headers["Content-Encoding"] == encoding
        assert {"deflate": zlib.decompress, "zstd": zstd.decompress, "lz4": lz4.frame.decompress}[encoding](out) \
            == b"7\n"
    # A small body that expands past the query limit is refused, not expanded in memory.
    status, headers, out = http(ch_url, body=gzip.compress(b"SELECT 1 -- " + b"x" * 3_000_000),
                                headers={"Content-Encoding": "gzip"})
    assert status == 413 and headers["X-ClickHouse-Exception-Code"] == "393"
    # Without enable_http_compression ClickHouse answers uncompressed; so does the endpoint.
    status, headers, out = http(ch_url, query="SELECT 1", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers and out == b"1\n"


def test_errors_in_clickhouse_form(ch_url):
    status, headers, body = http(ch_url, query="SELECT * FROM no_such_table")
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "60"
    assert body.startswith(b"Code: 60. DB::Exception: ") and b"(UNKNOWN_TABLE)" in body
    status, headers, body = http(ch_url, query="SELEC 1")
    assert status == 400 and headers["X-ClickHouse-Exception-Code"] == "62"
    status, headers, body = http(ch_url, body=b"")
    assert status == 400 and b"Empty query" in body
    # The engine runs every statement of a text: a second one is refused before anything runs.
    status, headers, body = http(ch_url, body=b"SELECT 1; SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')")
    assert status == 400 and headers["X-ClickHouse-Exception-Code"] == "62" and b"Multi-statements" in body
    status, headers, body = http(ch_url, query="SELECT 1", database="somewhere_else")
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "81"


@pytest.mark.parametrize("sql", [
    "INSERT INTO otel_traces (TraceId) VALUES ('x')",
    "DROP TABLE otel_traces",
    "CREATE TABLE t (x UInt8) ENGINE = File(CSV)",
    "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')",
    "SELECT * FROM file('/etc/passwd', LineAsString)",
    "DESCRIBE url('http://127.0.0.1:9/x', CSV)",
    "SELECT * FROM remote('127.0.0.1:9', system.one)",
    "SELECT * FROM executable('id', TSV, 'x String')",
    "SELECT * FROM s3('http://127.0.0.1:9/b/k', CSV, 'a String')",
    "SELECT file('/etc/hostname')",
    "SELECT 1 INTO OUTFILE 'execlog-chhttp-must-not-exist.txt'",
    "SELECT 1 FORMAT JSON INTO OUTFILE 'execlog-chhttp-must-not-exist.txt'",
    "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String') FORMAT JSON",
    "SELECT 1 SETTINGS max_execution_time = 100000",
    "SELECT 1 SETTINGS allow_ddl = 1",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT * FROM otel_traces SETTINGS additional_table_filters = {'otel_traces': 'TraceId IN (SELECT 1)'}",
])
def test_refuses_writes_table_functions_and_unsafe_settings(ch_url, sql):
    status, headers, body = http(ch_url, body=sql.encode())
    assert not Path("execlog-chhttp-must-not-exist.txt").exists()
    assert status in (400, 403), body
    assert headers["X-ClickHouse-Exception-Code"] in ("164", "62"), body
    assert body.startswith(b"Code: ")


def test_other_databases_are_out_of_reach(ch_url, ch_client):
    ch_client.command("CREATE DATABASE IF NOT EXISTS chhttp_other")
    ch_client.command("CREATE TABLE IF NOT EXISTS chhttp_other.secret (x String) ENGINE = Memory")
    for sql in ("SELECT * FROM chhttp_other.secret", "SELECT 1 WHERE 'a' IN chhttp_other.secret",
                "SELECT * FROM otel_traces WHERE TraceId IN (SELECT x FROM `chhttp_other`.`secret`)"):
        status, headers, body = http(ch_url, query=sql)
        assert status == 403 and b"out of reach" in body, (sql, body)
    status, _, body = http(ch_url, query="SELECT name FROM system.tables WHERE database = currentDatabase() "
                                         "AND name = 'otel_traces'")
    assert (status, body) == (200, b"otel_traces\n")


def test_nested_columns_and_qualified_in_operands_are_not_databases(ch_url):
    """``Events.Name`` inside a function such as indexOf, and ``t.col IN (…)``'s left-hand side, name columns:
    the reach check refused them as databases ``Events`` and ``t`` (the viewer's own span query failed
    through the endpoint)."""
    for sql in ("SELECT indexOf(Events.Name, 'x') FROM otel_traces LIMIT 1",
                "SELECT t.TraceId FROM otel_traces AS t WHERE t.TraceId IN (SELECT TraceId FROM otel_traces) LIMIT 1",
                "SELECT 1 FROM otel_traces WHERE has(Events.Name, 'x') LIMIT 1"):
        status, _, body = http(ch_url, query=sql)
        assert status == 200, (sql, body)


def test_url_settings_safe_subset(ch_url):
    status, _, body = http(ch_url, query="SELECT getSetting('max_threads') = 1, getSetting('readonly')",
                           max_threads="1")
    assert (status, body) == (200, b"1\t2\n")
    # A limit in the URL above the endpoint's is capped (Grafana sends its own timeout with every query) …
    status, _, body = http(ch_url, query="SELECT getSetting('max_execution_time')", max_execution_time="999999")
    assert (status, body) == (200, b"10\n")
    # … one written into the statement is refused.
    status, headers, body = http(ch_url, query="SELECT 1 SETTINGS max_execution_time = 999999")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
    status, _, body = http(ch_url, query="SELECT 1", allow_introspection_functions="1")
    assert status == 403 and b"allow_introspection_functions" in body


def test_a_setting_name_cannot_carry_statements(ch_url, tmp_path):
    """A URL parameter's name is a setting's name, given to the session as ``SET name = value``: one with a
    statement in it (an allowed prefix, then ``; …``) is refused, and neither the statement nor a lifted limit
    runs — before, the name below wrote a file on the server and set the query limits to none."""
    target = tmp_path / "written-by-a-setting-name.txt"
    injected = (f"output_format_pretty_color = 1; INSERT INTO FUNCTION file('{target}', 'TSV', 'x String') "
                "VALUES ('written'); SET max_execution_time = 0, output_format_pretty_color")
    status, headers, body = http(ch_url, query="SELECT getSetting('max_execution_time')", **{injected: "1"})
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "164"
    assert b"letters, digits and underscores" in body
    assert not target.exists()
    assert http(ch_url, query="SELECT getSetting('max_execution_time')")[2] == b"10\n"


def test_without_authentication_browsers_of_other_sites_and_other_names_are_refused(ch_url):
    """Without authentication the endpoint answers programs and its own origin: a request a browser marks as
    made by another site's page (an <img> on any page the user visits) is refused, and so is a Host that is not
    a loopback name (DNS rebinding); clients (no such headers, the URL's own host) are answered."""
    port = urllib.parse.urlsplit(ch_url).port
    for site in ("cross-site", "same-site"):
        status, _, body = http(ch_url, query="SELECT 1", headers={"Sec-Fetch-Site": site})
        assert status == 403 and b"another site's page" in body, site
    assert http(ch_url, query="SELECT 1", headers={"Sec-Fetch-Site": "same-origin"})[:3:2] == (200, b"1\n")
    status, _, body = http(ch_url, query="SELECT 1", headers={"Host": f"rebind.example:{port}"})
    assert status == 421 and b"not a name of this server" in body
    assert http(ch_url, query="SELECT 1", headers={"Host": f"localhost:{port}"})[:3:2] == (200, b"1\n")


def test_result_size_limit(ch_url):
    status, _, body = http(ch_url, query="SELECT number FROM numbers(100) SETTINGS max_result_rows = 10")
    assert status != 200 and b"Code: 396" in body  # TOO_MANY_ROWS_OR_BYTES


def test_native_hello_reports_revision_zero():
    block = framing.native_hello("h", "26.1", "UTC", 54460)
    assert block.startswith(b"\x01\x00\x02\xff\xff\xff\xff\x00\x04\x01")
    assert b"revision()\x06UInt32\x00\x00\x00\x00\x00" in block


def test_clickhouse_connect_over_http(ch_url, store, loaded):
    host, port = ch_url.removeprefix("http://").split(":")
    client = clickhouse_connect.get_client(host=host, port=int(port), database=store.database)
    try:
        rows = client.query("SELECT ServiceName, count() FROM otel_traces GROUP BY ServiceName "
                            "ORDER BY ServiceName").result_rows
        assert rows and all(n > 0 for _, n in rows)
        assert client.query("SELECT {x:String}", parameters={"x": "a'b\\c"}).result_rows == [("a'b\\c",)]
        df_like = client.query_arrow("SELECT TraceId, Duration FROM otel_traces LIMIT 5")
        assert df_like.num_rows == 5
        with pytest.raises(Exception, match="READONLY|164|refused"):
            client.command("DROP TABLE otel_traces")
    finally:
        client.close()


def test_clickhouse_connect_streams_large_results(ch_url):
    host, port = ch_url.removeprefix("http://").split(":")
    client = clickhouse_connect.get_client(host=host, port=int(port), compress="gzip")
    try:
        total = 0
        with client.query_row_block_stream("SELECT number FROM numbers(3000000)") as stream:
            for block in stream:
                total += len(block)
        assert total == 3_000_000
    finally:
        client.close()


def test_auth_on_takes_viewer_users_and_token(start_server):
    from execlog_otel.viewer.auth import hash_password

    running = start_server(auth_token="tok-123", auth_users=(f"ana:{hash_password('s3cret')}",))
    url = running.clickhouse_http.url
    status, headers, body = http(url, query="SELECT 1")
    assert status == 401 and headers["X-ClickHouse-Exception-Code"] == "194"
    status, headers, _ = http(url, query="SELECT 1", headers={"X-ClickHouse-User": "ana", "X-ClickHouse-Key": "no"})
    assert status == 401 and headers["X-ClickHouse-Exception-Code"] == "516"
    ana = {"X-ClickHouse-User": "ana", "X-ClickHouse-Key": "s3cret"}
    assert http(url, query="SELECT 1", headers=ana)[2] == b"1\n"
    basic = "Basic " + base64.b64encode(b"grafana:tok-123").decode()
    assert http(url, query="SELECT 1", headers={"Authorization": basic})[2] == b"1\n"
    assert http(url, "/ping")[2] == b"Ok.\n"  # the health check needs no credentials, as in ClickHouse
    host, port = url.removeprefix("http://").split(":")
    client = clickhouse_connect.get_client(host=host, port=int(port), username="ana", password="s3cret")
    assert client.query("SELECT 2").result_rows == [(2,)]
    client.close()


def test_password_guesses_meet_the_viewers_limits(start_server, settings, monkeypatch):
    """Wrong passwords are limited per address and per user name as at the viewer's sign-in (429 with
    Retry-After, no hash computed), the token is kept out only by its address's own failures, and an unknown
    user name is hashed like a known one (before: 200 guesses in 0.1 s, 116 ms for a user against 0.5 ms for
    no user)."""
    from execlog_otel.clickhouse_http import auth as ch_auth
    from execlog_otel.viewer.auth import hash_password

    running = start_server(auth_token="tok-" + "t" * 30, auth_users=(f"ana:{hash_password('s3cret')}",))
    url = running.clickhouse_http.url
    wrong = {"X-ClickHouse-User": "ana", "X-ClickHouse-Key": "guess"}
    assert [http(url, query="SELECT 1", headers=wrong)[0] for _ in range(10)] == [401] * 10
    status, headers, body = http(url, query="SELECT 1", headers=wrong)
    assert status == 429 and int(headers["Retry-After"]) > 0 and b"too many failed attempts" in body

    authenticator = ch_auth.Authenticator(dataclasses.replace(settings, auth_token="tok-" + "t" * 30,
                                                              auth_users=(f"ana:{hash_password('s3cret')}",)))
    hashed: list[str] = []
    real = ch_auth.check_password_hash
    monkeypatch.setattr(ch_auth, "check_password_hash", lambda h, k: hashed.append(h) or real(h, k))
    for _ in range(10):
        with pytest.raises(ChError):
            authenticator.check("nobody", "guess", "192.0.2.1")
    assert len(hashed) == 10 and set(hashed) == {ch_auth.stand_in_hash()}  # as slow as a known name
    for address in ("192.0.2.1", "192.0.2.2"):  # the address, then the name, over its limit
        with pytest.raises(ChError) as refused:
            authenticator.check("nobody", "guess", address)
        assert refused.value.status == 429 and len(hashed) == 10
    assert authenticator.check("nobody", "tok-" + "t" * 30, "192.0.2.2") == "nobody"  # the token still opens
    assert authenticator.check("ana", "s3cret", "192.0.2.3") == "ana"


def test_viewer_reads_the_store_through_the_endpoint(server, store, settings, ch_url):
    """``execlog viewer --clickhouse http://…/db`` against the endpoint answers as the viewer on the store."""
    from execlog_otel.config import Settings
    from execlog_otel.server import viewer_store
    from execlog_otel.viewer.app import create_app
    from viewer_support import SpanWriter, populate

    writer = SpanWriter(store)
    data = populate(writer)
    writer.close()
    direct = create_app(settings, store, receiver=False).test_client()
    remote_settings = Settings.from_env(environ={}, clickhouse_url=f"{ch_url}/{store.database}",
                                        database=store.database)
    remote_store = viewer_store(remote_settings, threads=2)
    try:
        remote = create_app(remote_settings, remote_store, receiver=False).test_client()
        for path in ("/api/executions", "/api/executions?kind=agent", "/api/executions?status=Failed",
                     f"/api/executions/{data.order_sync}", f"/api/executions/{data.billing}/neighbors",
                     "/api/facets", "/api/names"):
            want, got = direct.get(path), remote.get(path)
            assert got.status_code == want.status_code == 200, (path, got.get_json())
            assert _timeless(got.get_json()) == _timeless(want.get_json()), path
        assert remote.get("/").status_code == 200
    finally:
        remote_store.close()


def _timeless(value):
    """A viewer answer without the durations of running executions (they grow between two requests)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("duration_ms", "now", "generated_at")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def test_provisioned_embedded_data_source_matches_the_endpoint():
    """dashboards/provisioning/datasources-embedded: HTTP to the endpoint's default port, the same uid and
    trace settings as the server variant (so the dashboards find it)."""
    from pathlib import Path

    import yaml

    from execlog_otel.clickhouse_http.listener import DEFAULT_PORT
    from execlog_otel.config import Settings

    root = Path(__file__).resolve().parent.parent / "dashboards" / "provisioning"
    embedded = yaml.safe_load((root / "datasources-embedded" / "clickhouse.yaml").read_text())["datasources"][0]
    server = yaml.safe_load((root / "datasources" / "clickhouse.yaml").read_text())["datasources"][0]
    data = embedded["jsonData"]
    assert (data["protocol"], data["port"], data["host"]) == ("http", DEFAULT_PORT, "127.0.0.1")
    assert data["defaultDatabase"] == Settings.from_env(environ={}).database
    assert embedded["uid"] == server["uid"] and embedded["type"] == server["type"]
    assert data["traces"] == server["jsonData"]["traces"]


def test_large_results_stream_without_being_held(ch_url):
    """A 239 MiB TabSeparated result goes out block by block (chunked): the server process's memory grows by
    far less than the result, which it would hold whole (twice, with a copy) if it buffered it. (The engine
    keeps a few blocks in flight whatever the result's size; these blocks are small.)"""
    import os
    import threading
    import time

    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    base, peak, done = rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss() - base)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size = 0
    sql = "SELECT concat(toString(number), repeat('x', 20)) FROM numbers(9000000) FORMAT TSV"
    query = urllib.parse.urlencode({"query": sql})
    with urllib.request.urlopen(f"{ch_url}/?{query}", timeout=300) as resp:
        assert resp.headers.get("Transfer-Encoding") == "chunked" and resp.headers.get("Content-Length") is None
        while chunk := resp.read(1 << 20):
            size += len(chunk)
    done.set()
    sampler.join()
    assert size == 250_888_890  # the digits of 0 … 8,999,999, twenty x and a newline each
    assert peak[0] < 100 * 1024 * 1024, f"the server grew by {peak[0] / 2**20:.0f} MiB for a {size >> 20} MiB result"


def test_one_piece_formats_go_out_with_their_length(ch_url):
    status, headers, body = http(ch_url, query="SELECT number FROM numbers(100000) FORMAT Parquet")
    assert status == 200 and int(headers["Content-Length"]) == len(body) and body[:4] == b"PAR1"


def test_without_authentication_the_endpoint_stays_on_loopback():
    from execlog_otel.clickhouse_http.listener import _bind_host, port_setting
    from execlog_otel.config import ConfigError, Settings

    host, note = _bind_host(Settings.from_env(environ={}, host="0.0.0.0"))
    assert host == "127.0.0.1" and "loopback only" in note
    assert _bind_host(Settings.from_env(environ={}, host="0.0.0.0", auth_token="t"))[0] == "0.0.0.0"
    assert port_setting("") == 8123 and port_setting("0") == 0 and port_setting("off") is None
    with pytest.raises(ConfigError):
        port_setting("eighty")


def test_execlog_sql_shares_the_guard(store, chdb_url, ch_client):
    """One rule, one place: ``execlog sql`` refuses what the endpoint refuses (its client is readonly=1,
    under which ClickHouse would still fetch ``DESCRIBE url(…)``)."""
    from execlog_otel import sqlcmd

    ch_client.command("CREATE DATABASE IF NOT EXISTS chhttp_other")
    ch_client.command("CREATE TABLE IF NOT EXISTS chhttp_other.secret (x String) ENGINE = Memory")
    client = sqlcmd.read_only_client(chdb_url, store.database)
    try:
        for sql, reason in (("DESCRIBE url('http://127.0.0.1:9/x', CSV)", "table function url"),
                            ("SELECT * FROM chhttp_other.secret", "out of reach"),
                            ("SELECT 1 FROM numbers(1) WHERE 'a' IN chhttp_other.secret", "out of reach")):
            with pytest.raises(sqlcmd.SqlError, match=reason):
                sqlcmd.run_read_only(client, sql)
        assert sqlcmd.run_read_only(client, "SELECT count() FROM numbers(3)").rows == [[3]]
    finally:
        client.close()


def test_execlog_serve_shows_the_endpoint_at_start_and_in_status(tmp_path):
    """A real ``execlog serve`` process: the banner and ``execlog status`` name the endpoint, which answers."""
    import os
    import re
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "EXECLOG_"))}
    env["PYTHONUNBUFFERED"] = "1"
    cli = [sys.executable, "-m", "execlog_otel.cli"]
    proc = subprocess.Popen([*cli, "serve", "--data", str(tmp_path), "--port", "0", "--clickhouse-http-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = ""
        for line in proc.stdout:
            found = re.search(r"ClickHouse HTTP: (http://127\.0\.0\.1:\d+) \(database otel", line)
            if found:
                url = found.group(1)
                break
        assert url, proc.stderr.read() if proc.poll() is not None else "no ClickHouse HTTP line"
        status = subprocess.run([*cli, "status", "--data", str(tmp_path)], capture_output=True, text=True,
                                env=env, timeout=60)
        assert f"clickhouse: {url}" in status.stdout, status.stdout + status.stderr
        client = clickhouse_connect.get_client(dsn=f"{url}/otel")
        assert client.query("SELECT count() FROM otel_traces").result_rows == [(0,)]
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
