"""Retry end to end: a real runner process (SDK + retry listener) exporting to the real server, retried
through the viewer's API.

The reference document "Retry Execution for Failed Automation", one test each:
- Use Case 1 (fails at the time of execution, Retry → Success): test_use_case_1_failed_then_retried_to_success
- Use Case 2 (fails again; reconfigure the failing step; retry the failed execution, up to 2 times):
  test_use_case_2_reconfigured_step_then_retry_succeeds, and the persistent failure
  test_persistent_failure_is_retried_twice_then_refused
- Use Case 3 (a new trigger configuration → error message, start a new execution):
  test_use_case_3_changed_trigger_is_refused_with_the_message
- Use Case 4 (success on the first attempt): test_use_case_4_first_attempt_success_offers_no_retry
- Limitation 1 (Response connector → no retry): test_limitation_1_response_connector_is_not_retryable
- Limitation 2 (the limit: Retry disappears, start a new execution):
  test_persistent_failure_is_retried_twice_then_refused
Also: 10 concurrent retries start one attempt; the runner's listener rejects bad signatures and stale requests.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import urllib3
from tests.retry_support import SECRET, Runner, Viewer, free_listen, signed

from execlog_otel.config import Settings
from execlog_otel.viewer.app import create_app


@pytest.fixture
def settings(store, chdb_url):
    return Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0,
                             retry_secret=SECRET)


@pytest.fixture
def start_runner(server, tmp_path):
    runners: list[Runner] = []

    def start(**kw) -> Runner:
        state = tmp_path / f"runner{len(runners)}"
        state.mkdir()
        r = Runner(server.url, state, **kw)
        runners.append(r)
        return r

    yield start
    for r in runners:
        r.stop()


@pytest.fixture
def viewer(server):
    v = Viewer(server.url)
    yield v
    v.http.clear()


def test_use_case_1_failed_then_retried_to_success(start_runner, viewer, store):
    """Use Case 1: a failure at the time of execution; Retry; the Execution Log shows Success."""
    runner = start_runner()
    eid, status = runner.run("flaky-sync", {"order_id": 42})
    assert status == "Failed"
    row = viewer.wait_row(eid, status="Failed")
    assert row["retry_url"] == runner.url
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"], answer["attempt"]) == (202, "accepted", 2), answer
    row = viewer.wait_row(eid, status="Success", attempt=2)
    assert row["max_attempts"] == 3  # "attempt 2 of 3"
    listing = viewer.get("/api/executions?name=flaky-sync")["items"]
    assert [(i["id"], i["status"]) for i in listing] == [(eid, "Success")]  # one row per execution
    detail = viewer.get(f"/api/executions/{eid}")
    assert [(a["attempt"], a["status"]) for a in detail["attempts"]] == [(1, "Failed"), (2, "Success")]
    assert detail["shown_attempt"] == 2
    first = viewer.get(f"/api/executions/{eid}?attempt=1")
    assert (first["status"], first["shown_attempt"]) == ("Failed", 1)
    # Attempt 2 is its own trace, linked to the first attempt's root span.
    second_trace = detail["attempts"][1]["trace_id"]
    assert second_trace != eid
    links = store.pool.query(
        f"SELECT Links.TraceId, Links.SpanId, SpanAttributes['execlog.retry_of'] FROM {store.table('otel_traces')} "
        "WHERE TraceId = {t:String} AND ParentSpanId = ''", parameters={"t": second_trace}).result_rows
    first_root = store.pool.query(
        f"SELECT SpanId FROM {store.table('otel_traces')} WHERE TraceId = {{t:String}} AND ParentSpanId = ''",
        parameters={"t": eid}).result_rows[0][0]
    link_traces, link_spans, retry_of = links[0]
    assert (eid, first_root) in list(zip(link_traces, link_spans, strict=True)) and retry_of == eid
    assert runner.calls("flaky-sync") == 2


def test_use_case_4_first_attempt_success_offers_no_retry(start_runner, viewer):
    """Use Case 4: success on the first attempt shows Success; there is nothing to retry."""
    runner = start_runner()
    runner.run("flaky-sync", {"order_id": 1})  # uses up the one failure
    eid, status = runner.run("flaky-sync", {"order_id": 2})
    assert status == "Success"
    viewer.wait_row(eid, status="Success", attempt=1)
    assert viewer.get(f"/api/executions/{eid}/retry")["code"] == "not_failed"
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"]) == (409, "not_failed")


def test_persistent_failure_is_retried_twice_then_refused(start_runner, viewer):
    """Limitation 2: after 2 retries (3 attempts) the Retry affordance is gone and a retry is refused."""
    runner = start_runner()
    eid, _ = runner.run("always-fails", {"order_id": 7})
    viewer.wait_row(eid, status="Failed")
    for attempt in (2, 3):
        status_code, answer = viewer.retry(eid)
        assert (status_code, answer["code"], answer["attempt"]) == (202, "accepted", attempt), answer
        viewer.wait_row(eid, status="Failed", attempt=attempt)
    status = viewer.get(f"/api/executions/{eid}/retry")
    assert (status["retryable"], status["code"], status["attempts_left"]) == (False, "limit_reached", 0)
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"]) == (409, "limit_reached")
    assert "Start a new execution" in answer["error"]
    assert runner.calls("always-fails") == 3
    detail = viewer.get(f"/api/executions/{eid}")
    assert [(a["attempt"], a["status"]) for a in detail["attempts"]] == [(1, "Failed"), (2, "Failed"), (3, "Failed")]


def test_use_case_2_reconfigured_step_then_retry_succeeds(start_runner, viewer):
    """Use Case 2: it fails again after a retry; the failing step is reconfigured (runner redeployed on the
    same listener address, runner unreachable meanwhile — no attempt counted); retrying the failed execution
    now succeeds."""
    listen = free_listen()
    runner = start_runner(listen=listen)
    eid, _ = runner.run("always-fails", {"order_id": 9})
    viewer.wait_row(eid, status="Failed")
    assert viewer.retry(eid)[0] == 202
    viewer.wait_row(eid, status="Failed", attempt=2)
    runner.stop()  # deactivate
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"]) == (502, "runner_unreachable")
    assert "unreachable" in answer["error"]
    fixed = start_runner(listen=listen, STEP_FIXED="1")  # reconfigured and activated again
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"], answer["attempt"]) == (202, "accepted", 3), answer
    viewer.wait_row(eid, status="Success", attempt=3)
    assert fixed.calls("always-fails") == 1


def test_use_case_3_changed_trigger_is_refused_with_the_message(start_runner, viewer):
    """Use Case 3: the trigger was reconfigured; the retry is refused: the execution holds the payload of the
    previously configured trigger, start a new execution."""
    listen = free_listen()
    runner = start_runner(listen=listen, TRIGGER_VERSION="1")
    eid, _ = runner.run("reconfigurable", {"order_id": 3})
    viewer.wait_row(eid, status="Failed")
    runner.stop()
    new = start_runner(listen=listen, TRIGGER_VERSION="2")
    assert viewer.preview(eid)["code"] == "trigger_changed"
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"]) == (409, "trigger_changed")
    assert "payload of the previously configured trigger" in answer["error"]
    assert "Start a new execution" in answer["error"]
    assert new.calls("reconfigurable") == 0
    assert viewer.get(f"/api/executions/{eid}/retry")["attempt"] == 1  # nothing counted


def test_limitation_1_response_connector_is_not_retryable(start_runner, viewer):
    """Limitation 1: an automation with a Response connector cannot be retried; the viewer says why."""
    runner = start_runner()
    eid, status = runner.run("answers-caller", {"order_id": 5})
    assert status == "Failed"
    viewer.wait_row(eid, status="Failed")
    status = viewer.get(f"/api/executions/{eid}/retry")
    assert (status["retryable"], status["code"]) == (False, "not_retryable")
    status_code, answer = viewer.retry(eid)
    assert (status_code, answer["code"]) == (409, "not_retryable")
    assert "Response connector" in answer["error"]
    assert runner.calls("answers-caller") == 1


def test_ten_concurrent_retries_start_exactly_one_attempt(start_runner, viewer):
    """Ten simultaneous clicks on Retry (attempt 2) — from one page or several — start one attempt, even
    when that attempt has already failed again before the last request is handled (the viewer has fewer
    worker threads than requests, so some are handled late)."""
    runner = start_runner()
    eid, _ = runner.run("always-fails", {"order_id": 11})
    viewer.wait_row(eid, status="Failed")
    barrier = threading.Barrier(10)

    def click(_):
        barrier.wait()
        return viewer.retry(eid, attempt=2)  # what the Retry button sends: the attempt it offered

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(click, range(10)))
    assert sorted((s, a["code"]) for s, a in results) == [(202, "accepted")] + [(202, "already_started")] * 9
    assert {a["attempt"] for _, a in results} == {2}
    viewer.wait_row(eid, status="Failed", attempt=2)
    time.sleep(1)  # give a wrongly started second attempt the time to show up
    detail = viewer.get(f"/api/executions/{eid}")
    assert [a["attempt"] for a in detail["attempts"]] == [1, 2]
    assert runner.calls("always-fails") == 2


def test_runner_listener_rejects_bad_signature_and_stale_requests(start_runner, viewer, store, settings):
    runner = start_runner()
    eid, _ = runner.run("always-fails", {"order_id": 12})
    row = viewer.wait_row(eid, status="Failed")
    http = urllib3.PoolManager()
    body = {"execution_id": eid, "attempt": 2, "name": "always-fails", "trigger_payload": {"order_id": 12},
            "trigger_fingerprint": row["trigger_fingerprint"], "execution_start_ns": 1, "first_root_span_id": ""}
    raw, headers = signed(body, secret="guessed secret")
    resp = http.request("POST", runner.url, body=raw, headers=headers)
    assert (resp.status, resp.json()["code"]) == (401, "bad_signature")
    raw, headers = signed(body, now=time.time() - 600)
    resp = http.request("POST", runner.url, body=raw, headers=headers)
    assert (resp.status, resp.json()["code"]) == (401, "stale")
    # A viewer configured with another secret cannot trust the runner's proof: it says so, calls nothing.
    other = create_app(replace(settings, retry_secret="not the runner's"), store, receiver=False).test_client()
    token = other.get("/api/retry/csrf").get_json()["token"]
    resp = other.post(f"/api/executions/{eid}/retry", headers={"X-CSRF-Token": token})
    assert (resp.status_code, resp.get_json()["code"]) == (409, "unproven")
    assert "EXECLOG_RETRY_SECRET" in resp.get_json()["error"]
    time.sleep(0.5)
    assert runner.calls("always-fails") == 1
    assert viewer.get(f"/api/executions/{eid}/retry")["next_attempt"] == 2
