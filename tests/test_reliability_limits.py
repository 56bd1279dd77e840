"""Limits and retention: query timeout answered clearly, steps per page capped, TTL deletes old data, and the
retention in force, the spool and the spans written are visible through ``/api/status`` and ``execlog status``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import pytest
from benchmarks.common import ServeProcess, clean_env
from tests.conftest import new_store, serving
from tests.reliability_support import http, otlp_json, post_spans, span_ids

from execlog_otel.store import schema
from execlog_otel.store.repository import MAX_STEPS
from execlog_otel.store.rows import SpanColumns
from execlog_otel.viewer.app import create_app


def root_and_steps(trace_id: str, steps: int, start_ns: int) -> SpanColumns:
    cols = SpanColumns()
    root = "1" * 16
    common = dict(trace_id=trace_id, trace_state="", kind="Internal", service_name="svc",
                  resource={"service.name": "svc"}, scope_name="t", scope_version="", status_code="Unset",
                  status_message="")
    cols.add(start_ns=start_ns, end_ns=start_ns + 10**9, span_id=root, parent_span_id="", name="run",
             attributes={"execlog.kind": "agent", "execlog.execution.name": "big", "execlog.status": "Success"},
             **common)
    for i in range(steps):
        cols.add(start_ns=start_ns + i, end_ns=start_ns + i + 1, span_id=format(i + 2, "016x"), parent_span_id=root,
                 name=f"step {i}", attributes={"execlog.step.kind": "tool"}, **common)
    return cols


def test_a_slow_query_is_cancelled_and_answered_with_504(store, settings):
    store.insert_span_columns(root_and_steps("a" * 32, 50, time.time_ns()).columns)
    app = create_app(dataclasses.replace(settings, query_timeout_s=0.000001), store)
    client = app.test_client()
    for path in ("/api/executions", "/api/executions/" + "a" * 32):
        resp = client.get(path)
        assert resp.status_code == 504, (path, resp.status_code, resp.data[:300])
        assert "took longer than 1e-06 s and was cancelled" in resp.get_json()["error"]
    # With the normal budget the same queries answer.
    ok = create_app(settings, store).test_client()
    assert ok.get("/api/executions").status_code == 200


def test_steps_per_page_are_capped(store, settings):
    store.insert_span_columns(root_and_steps("b" * 32, MAX_STEPS + 20, time.time_ns()).columns)
    client = create_app(settings, store).test_client()
    item = client.get("/api/executions/" + "b" * 32).get_json()
    # No cap on steps, but a bounded answer: the first page, and how many there are (/steps pages the rest).
    assert item["steps_paged"] is True and item["steps_total"] == MAX_STEPS + 20
    assert len(item["steps"]) <= MAX_STEPS
    assert client.get("/api/status").get_json()["limits"]["steps_per_page"] == MAX_STEPS


def test_retention_deletes_backdated_data_and_is_shown(ch_client, settings):
    store = new_store(ch_client, retention_days=7)
    try:
        with serving(dataclasses.replace(settings, database=store.database, retention_days=7), store) as running:
            now = time.time_ns()
            old = root_and_steps("c" * 32, 3, now - 10 * 86400 * 10**9)  # 10 days old: past a 7-day retention
            store.insert_span_columns(old.columns)
            assert post_spans(running.url, otlp_json(span_ids(2, 50)))[0] == 200
            status, _, body = http("GET", running.url + "/api/status")
            data = json.loads(body)
            assert status == 200 and data["retention_days"] == 7 and data["store"]["retention_days"] == 7
            # (Expired rows may already be gone: ClickHouse can drop an expired part right at insert.)
            assert data["store"]["spans_stored"] in (2, 6)
            for table in schema.TTL_TABLES:
                store.pool.command(f"ALTER TABLE {store.table(table)} MATERIALIZE TTL SETTINGS mutations_sync = 2")
            left = store.pool.query(f"SELECT DISTINCT TraceId FROM {store.table('otel_traces')}").result_rows
            assert ("c" * 32,) not in left and len(left) == 2
            _, _, body = http("GET", running.url + "/api/executions")
            assert all(i["id"] != "c" * 32 for i in json.loads(body)["items"])
            assert json.loads(http("GET", running.url + "/api/status")[2])["store"]["spans_stored"] == 2
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_status_api_and_command_show_store_retention_spool_and_spans_written(tmp_path):
    data = tmp_path / "data"
    env = clean_env(EXECLOG_SPOOL_MAX_BYTES="123456789", EXECLOG_RETENTION_DAYS="12")
    serve = ServeProcess(data, env=env)
    try:
        assert post_spans(serve.url, otlp_json(span_ids(5, 60)))[0] == 200
        status, _, body = http("GET", serve.url + "/api/status")
        api = json.loads(body)
        assert status == 200
        assert api["retention_days"] == 12
        assert api["ingest"]["spans_accepted"] == 5
        wal = api["ingest"]["log"]
        assert wal["max_bytes"] == 123456789 and wal["dropped_spans"] == 0
        assert wal["directory"] == str(data / "spool")
        # The backlog, the insert lag and the oldest unwritten span's age are there; soon it is written.
        assert {"pending_spans", "oldest_pending_age_s", "damaged_records", "lost_spans"} <= set(wal)
        assert "insert_lag_s" in api["ingest"] and "dead_letter_spans" in api["ingest"]
        for _ in range(400):
            api = json.loads(http("GET", serve.url + "/api/status")[2])
            if api["ingest"]["spans_written"] == 5:
                break
            time.sleep(0.05)
        assert api["ingest"]["spans_written"] == 5 and api["ingest"]["log"]["pending_spans"] == 0
        assert api["store"]["spans_stored"] == 5
        # The ingest section alone (what a poller watches): the same counters, nothing read from the store.
        status, _, body = http("GET", serve.url + "/api/status?only=ingest")
        only = json.loads(body)
        assert status == 200 and set(only) == {"ingest"}
        assert only["ingest"]["spans_written"] == 5 and only["ingest"]["log"]["pending_spans"] == 0
        status, _, body = http("GET", serve.url + "/api/status?only=store")
        assert status == 400 and "'only' takes 'ingest'" in json.loads(body)["error"]
        # The command asks the running server (it owns the embedded store).
        out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "status", "--data", str(data)],
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        assert f"server:     {serve.url}" in out.stdout
        assert "retention:  12 days" in out.stdout
        assert "written:    5 spans" in out.stdout
        assert "of 123456789 bytes, 0 spans waiting, 0 dropped" in out.stdout
        assert "backlog:    oldest unwritten span waited 0.0 s; insert lag" in out.stdout
    finally:
        assert serve.stop() == 0
    # Without a server it reads the store and the spool directory itself.
    out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "status", "--data", str(data), "--json"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    local = json.loads(out.stdout)
    assert local["store"]["spans_stored"] == 5 and local["retention_days"] == 12
    assert local["ingest"]["log"]["max_bytes"] == 123456789 and local["ingest"]["log"]["pending_spans"] == 0


def test_viewer_pages_show_the_retention_in_force(ch_client, settings):
    store = new_store(ch_client, retention_days=9)
    try:
        # The setting says 30; the table's TTL (what actually deletes) says 9: the page shows 9.
        client = create_app(dataclasses.replace(settings, database=store.database), store).test_client()
        for path in ("/", "/executions/" + "d" * 32):
            page = client.get(path).get_data(as_text=True)
            assert "Executions are kept for 9 days" in page, path
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_client_pool_lets_calls_run_side_by_side(chdb_url, store):
    """The server's store pool: a call while another holds a client opens a second client instead of waiting."""
    from execlog_otel.store.client import connect
    from execlog_otel.store.pool import ClientPool

    pool = ClientPool(lambda: connect(chdb_url), size=3)
    try:
        busy = pool._borrow()  # a long query is running on this one
        assert pool.query("SELECT 41 + 1").result_rows == [(42,)]
        assert pool.size == 2
        pool._idle.put(busy)
        for _ in range(5):
            pool.query("SELECT 1")
        assert pool.size == 2  # idle clients are reused, not multiplied
        assert pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows == [(0,)]
    finally:
        pool.close()


def test_submitted_reads_run_on_other_clients_and_threads(chdb_url):
    """ClientPool.submit: a request's independent reads (a page and its count, a detail's spans and their
    costs) run on other clients while the caller goes on; errors reach the caller; one client runs inline."""
    import threading

    from clickhouse_connect.driver.exceptions import DatabaseError

    from execlog_otel.store.client import connect
    from execlog_otel.store.pool import ClientPool

    before = {t.ident for t in threading.enumerate()}
    for size, thread_prefix in ((3, "execlog-query"), (1, threading.current_thread().name)):
        pool = ClientPool(lambda: connect(chdb_url), size=size)
        ran_on: list[str] = []
        query = pool.query

        def recording(*args, _query=query, _ran_on=ran_on, **kwargs):
            _ran_on.append(threading.current_thread().name)
            return _query(*args, **kwargs)

        pool.query = recording
        try:
            busy = pool._borrow() if size > 1 else None  # a long query holds one client
            reads = [pool.submit("SELECT {n:UInt8} * 2", parameters={"n": n}) for n in range(4)]
            assert [r.result().result_rows for r in reads] == [[(n * 2,)] for n in range(4)]
            assert ran_on and all(name.startswith(thread_prefix) for name in ran_on)
            if busy is not None:
                assert pool.size >= 2  # another client, not a wait for the busy one
                pool._idle.put(busy)
            failing = pool.submit("SELECT no_such_function_here()")
            with pytest.raises(DatabaseError, match="no_such_function_here"):
                failing.result()
        finally:
            pool.close()
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []  # close() ends the threads that ran submitted reads


def test_a_closed_server_leaves_no_threads_behind(store, settings):
    """Worker threads of a closed server would pile up (each holds chDB file descriptors) until select() fails."""
    import threading

    before = {t.ident for t in threading.enumerate()}
    for _ in range(3):
        with serving(settings, store) as running:
            assert http("GET", running.url + "/api/executions")[0] == 200
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []
