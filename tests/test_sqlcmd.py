"""``execlog sql``: read-only queries through the running server or directly, as table / CSV / JSON.

The server is the real app under waitress over the test's store; the query runs on a read-only
ClickHouse session of the one embedded engine of this test process. One test starts a real
``execlog serve`` subprocess on its own data directory and finds it through the lock file.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from benchmarks.common import ServeProcess, clean_env
from click.testing import CliRunner
from clickhouse_connect.driver.exceptions import DatabaseError

import sql_fixture_data as fx
from execlog_otel import sqlcmd
from execlog_otel.cli import main

BY_NAME = ("SELECT Name, count() AS executions, countIf(Status = 'Success') AS ok "
           "FROM execlog_executions FINAL GROUP BY Name ORDER BY Name")
EXPECTED_BY_NAME = [["invoice-run", 3, 1], ["legacy-agent", 1, 1], ["research-agent", 2, 2],
                    ["sync-crm", 4, 1], ["triage-agent", 2, 1]]
WRITES = [
    "INSERT INTO otel_traces (TraceId) VALUES ('x')",
    "insert into execlog_executions SELECT * FROM execlog_executions",
    "ALTER TABLE otel_traces DELETE WHERE 1",
    "DROP TABLE execlog_executions",
    "TRUNCATE TABLE otel_traces",
    "CREATE TABLE evil (x UInt8) ENGINE = Memory",
    "  /* comment */ -- another\n OPTIMIZE TABLE otel_traces FINAL",
    "SET readonly = 0",
    "SYSTEM DROP DNS CACHE",
    "GRANT ALL ON *.* TO default",
]


@pytest.fixture
def loaded(store):
    return fx.load(store)


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["sql", *args], env={"EXECLOG_AUTH_TOKEN": "", **(env or {})},
                              catch_exceptions=False)


def table_counts(store) -> tuple[int, int]:
    q = store.pool.query
    return (q(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0],
            q(f"SELECT count() FROM {store.table('execlog_executions')}").result_rows[0][0])


def test_query_through_the_server_as_table_csv_and_json(server, loaded):
    res = invoke("--server", server.url, BY_NAME)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split() == ["Name", "executions", "ok"]
    assert lines[2].split() == ["invoice-run", "3", "1"] and lines[-1] == "(5 rows)"
    res = invoke("--server", server.url, "--format", "csv", BY_NAME)
    assert list(csv.reader(io.StringIO(res.output))) == [["Name", "executions", "ok"]] + [
        [str(v) for v in row] for row in EXPECTED_BY_NAME]
    res = invoke("--server", server.url, "-f", "json", BY_NAME + ";")
    assert json.loads(res.output)[0] == {"Name": "invoice-run", "executions": 3, "ok": 1}
    # Times, maps and arrays come out as JSON values.
    res = invoke("--server", server.url, "-f", "json",
                 "SELECT Start, Attempt, TraceId FROM execlog_executions FINAL WHERE RequestId = 'REQ-A4'")
    row = json.loads(res.output)[0]
    assert row["Attempt"] == 2 and row["TraceId"] == loaded.tid("A4b") and row["Start"].startswith("20")
    res = invoke("--server", server.url, "-f", "json",
                 "SELECT SpanAttributes, [1, 2] AS a FROM otel_traces WHERE SpanName = 'notify'")
    row = json.loads(res.output)[0]
    assert row["SpanAttributes"]["execlog.step.status"] == "Skipped" and row["a"] == [1, 2]


@pytest.mark.parametrize("statement", WRITES)
def test_writes_are_refused_with_a_clear_message(server, loaded, statement):
    before = table_counts(loaded.store)
    res = invoke("--server", server.url, statement)
    assert res.exit_code == 1
    assert "read-only" in res.output and "refused" in res.output
    assert table_counts(loaded.store) == before


@pytest.mark.parametrize(("statement", "word", "hint"), [
    ("SELEC broken", "SELEC", "did you mean SELECT?"),
    ("  -- a comment\n  selct 1", "selct", "did you mean SELECT?"),
    ("hello world", "hello", ""),
])
def test_a_typo_is_an_unknown_statement_not_a_write(server, statement, word, hint):
    res = invoke("--server", server.url, statement)
    assert res.exit_code == 1
    assert "read-only" not in res.output and "refused" not in res.output
    assert f"'{word}' is not a statement execlog sql runs" in res.output
    assert hint in res.output and "start the query with SELECT" in res.output


@pytest.mark.parametrize("statement", [
    "SELECT * FROM file('/etc/hostname', 'LineAsString')",  # would read any file of the server process
    "SELECT count() FROM otel_traces SETTINGS readonly = 0",
    "SELECT 1; DROP TABLE otel_traces",
    "SELECT file('/etc/hostname') AS f",  # the file() function reads in readonly=1 too: refused by parsing
    "select `file` /* x */ ('/etc/hostname')",
])
def test_the_engine_refuses_what_looks_like_a_read(server, loaded, statement):
    before = table_counts(loaded.store)
    res = invoke("--server", server.url, statement)
    assert res.exit_code == 1 and res.output.startswith("Error: ")
    assert ("read-only" in res.output) or ("ClickHouse rejected the query" in res.output)
    assert table_counts(loaded.store) == before


def test_into_outfile_writes_nothing(server, loaded, tmp_path):
    target = tmp_path / "out.txt"
    res = invoke("--server", server.url, f"SELECT 1 INTO/**/OUTFILE '{target}'")
    assert res.exit_code == 1 and "local files" in res.output
    assert not target.exists()


def test_the_read_only_session_refuses_writes_in_clickhouse_itself(store, chdb_url):
    """Even without the statement check, the engine refuses: the session has readonly=1."""
    client = sqlcmd.read_only_client(chdb_url, store.database)
    try:
        with pytest.raises(DatabaseError, match="readonly"):
            client.command(f"INSERT INTO {store.table('execlog_meta')} (Key, Value) VALUES ('k', 'v')")
        with pytest.raises(DatabaseError, match="readonly"):
            client.command(f"DROP TABLE {store.table('execlog_meta')}")
        assert client.query("SELECT count() FROM execlog_meta").result_rows[0][0] >= 1
    finally:
        client.close()
    # ... and only that session: the store's own client still writes.
    store.pool.command(f"INSERT INTO {store.table('execlog_meta')} (Key, Value) VALUES ('k', 'v')")


def test_bad_queries_get_clear_answers(server, loaded):
    res = invoke("--server", server.url, "")
    assert res.exit_code == 1 and "no query given" in res.output
    res = invoke("--server", server.url, "SELECT * FROM no_such_table")
    assert res.exit_code == 1 and "ClickHouse rejected the query" in res.output and "no_such_table" in res.output
    res = invoke("--server", server.url, "SELEC 1")  # a typo, not a write
    assert res.exit_code == 1 and "did you mean SELECT?" in res.output and "read-only" not in res.output
    res = invoke("--server", server.url, "--format", "xml", "SELECT 1")
    assert res.exit_code == 2 and "xml" in res.output
    res = invoke("--server", "http://127.0.0.1:9", "SELECT 1")
    assert res.exit_code == 1 and "no execlog server answers" in res.output
    # The API itself answers 400 with the reason, and keeps serving.
    for query in ("DROP TABLE otel_traces", "SELECT", "x" * 10):
        with pytest.raises(Exception) as info:
            urlopen(f"{server.url}/api/sql?query={query.replace(' ', '%20')}")
        assert info.value.code == 400
        assert json.loads(info.value.read())["error"]
    with pytest.raises(Exception) as info:
        urlopen(f"{server.url}/api/sql?query=SELECT%201&max_rows=abc")
    assert info.value.code == 400
    assert invoke("--server", server.url, "SELECT 1 AS one").output.splitlines()[2].strip() == "1"


def test_max_rows_truncates(server, loaded):
    res = invoke("--server", server.url, "--max-rows", "3", "SELECT number FROM numbers(10)")
    assert res.exit_code == 0
    assert res.output.splitlines()[-1] == "(3 rows, truncated)"
    res = invoke("--server", server.url, "-f", "csv", "--max-rows", "2", "SELECT number FROM numbers(10)")
    assert res.output.splitlines()[:3] == ["number", "0", "1"] and "truncated to 2 rows" in res.output


def test_route_is_protected_like_the_rest_of_the_api(loaded, start_server):
    running = start_server(auth_token="s3cret-token")
    res = invoke("--server", running.url, BY_NAME)
    assert res.exit_code == 1 and "needs authentication" in res.output
    with pytest.raises(Exception) as info:
        urlopen(f"{running.url}/api/sql?query=SELECT%201")
    assert info.value.code == 401
    res = invoke("--server", running.url, "--token", "wrong", BY_NAME)
    assert res.exit_code == 1
    res = invoke("--server", running.url, "-f", "csv", BY_NAME, env={"EXECLOG_AUTH_TOKEN": "s3cret-token"})
    assert res.exit_code == 0 and res.output.splitlines()[1] == "invoice-run,3,1"
    req = Request(f"{running.url}/api/sql?query=SELECT%2042%20AS%20x",
                  headers={"Authorization": "Bearer s3cret-token"})
    with urlopen(req) as resp:
        assert json.loads(resp.read())["rows"] == [[42]]


def test_direct_query_on_a_clickhouse_url(chdb_url, store, loaded):
    """--clickhouse URL: no server involved; the same read-only session, in this process."""
    res = invoke("--clickhouse", chdb_url, "--database", store.database, "-f", "csv", BY_NAME)
    assert res.exit_code == 0, res.output
    assert [r for r in csv.reader(io.StringIO(res.output))][1:] == [[str(v) for v in r] for r in EXPECTED_BY_NAME]
    res = invoke("--clickhouse", chdb_url, "--database", store.database, "DELETE FROM otel_traces WHERE 1")
    assert res.exit_code == 1 and "read-only" in res.output


def test_embedded_store_goes_through_the_running_serve(tmp_path: Path):
    """execlog sql --data DIR finds the execlog serve owning DIR (lock file) and queries through it."""
    data = tmp_path / "data"
    with ServeProcess(data):
        res = invoke("--data", str(data), "-f", "json", "SELECT count() AS n FROM otel_traces")
        assert res.exit_code == 0, res.output
        assert json.loads(res.output) == [{"n": 0}]
        res = invoke("--data", str(data), "DROP TABLE otel_traces")
        assert res.exit_code == 1 and "read-only" in res.output
    # With nobody serving it, the directory is opened directly (read-only) -- in a fresh process,
    # since this one already holds the test engine.
    deadline = time.monotonic() + 20
    while True:
        out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "sql", "--data", str(data), "-f", "csv",
                              "SELECT count() AS n FROM execlog_executions"], capture_output=True, text=True,
                             env=clean_env(), timeout=60)
        if out.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # the server may still be releasing the directory
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["n", "0"]
