"""The viewer's retry API and dispatcher against a real store and a real (in-process) retry listener.

Each failure has its own code and message, and an attempt counts only when the runner accepted it.
Reference mapping: Use Case 3 through the viewer (test_trigger_change_is_refused_through_the_viewer),
Limitation 1 (test_response_connector_is_refused_without_calling_the_runner), Limitation 2
(test_attempts_count_up_to_the_limit_then_retry_is_refused).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import urllib3
from tests.conftest import serving
from tests.retry_support import SECRET, add_attempt

from execlog_otel.retry.listener import start_retry_listener
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import current_attempt
from execlog_otel.viewer.app import create_app

T0 = time.time_ns() - 600 * 10**9


class Runner:
    """A registered automation behind a real listener; records the attempts it was asked to run."""

    def __init__(self, fingerprint: str = "fp1") -> None:
        self.name = f"sync-{uuid.uuid4().hex[:8]}"
        self.calls: list[tuple[dict, object]] = []

        def sync_orders(order_id):
            self.calls.append(({"order_id": order_id}, current_attempt()))

        registry.register(self.name, "automation", sync_orders, trigger_fingerprint=fingerprint)
        self.server = start_retry_listener("127.0.0.1", 0, SECRET)
        self.url = self.server.url

    def idle(self) -> None:
        assert self.server.listener.wait_idle(10)


@pytest.fixture
def runner():
    r = Runner()
    yield r
    r.server.close()


@pytest.fixture
def viewer_settings(settings):
    return replace(settings, retry_secret=SECRET)


@pytest.fixture
def client(app_client):
    c = app_client(retry_secret=SECRET)
    c.csrf = c.get("/api/retry/csrf").get_json()["token"]
    return c


def retry(client, eid):
    return client.post(f"/api/executions/{eid}/retry", headers={"X-CSRF-Token": client.csrf})


def failed(store, runner, **kw):
    kw.setdefault("payload", {"order_id": 7})
    return add_attempt(store, name=kw.pop("name", runner.name), status="Failed", start_ns=T0,
                       retry_url=kw.pop("retry_url", runner.url), **kw)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/execlog/retry"


def test_retry_needs_a_csrf_token(client, store, runner):
    eid, _ = failed(store, runner)
    resp = client.post(f"/api/executions/{eid}/retry")
    assert resp.status_code == 403 and "CSRF token" in resp.get_json()["error"]
    resp = client.post(f"/api/executions/{eid}/retry", headers={"X-CSRF-Token": "forged"})
    assert resp.status_code == 403
    assert runner.calls == []


def test_retry_starts_attempt_two_in_the_runner_with_the_original_payload(client, store, runner):
    eid, root_span = failed(store, runner)
    resp = retry(client, eid)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()
    assert (data["code"], data["attempt"], data["message"]) == ("accepted", 2, "Attempt 2 of 3 started.")
    runner.idle()
    kwargs, attempt = runner.calls[0]
    assert kwargs == {"order_id": 7}
    assert (attempt.execution_id, attempt.attempt, attempt.execution_start_ns, attempt.first_root_span_id) == \
        (eid, 2, T0, root_span)
    # A double click before attempt 2 reaches the store: nothing new starts.
    again = retry(client, eid)
    assert (again.status_code, again.get_json()["code"]) == (202, "already_started")
    runner.idle()
    assert len(runner.calls) == 1


def test_attempts_count_up_to_the_limit_then_retry_is_refused(client, store, runner):
    """Limitation 2 through the API: 3 attempts in all, then a clear refusal and no Retry affordance."""
    eid, _ = failed(store, runner)
    status = client.get(f"/api/executions/{eid}/retry").get_json()
    assert (status["retryable"], status["attempts_left"], status["next_attempt"]) == (True, 2, 2)
    for attempt in (2, 3):
        assert retry(client, eid).get_json()["attempt"] == attempt
        add_attempt(store, name=runner.name, status="Failed", start_ns=T0 + attempt * 10**9, execution_id=eid,
                    attempt=attempt, execution_start_ns=T0, retry_url=runner.url)
    resp = retry(client, eid)
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "limit_reached"
    assert "Start a new execution" in resp.get_json()["error"]
    status = client.get(f"/api/executions/{eid}/retry").get_json()
    assert (status["retryable"], status["attempts_left"], status["attempt"]) == (False, 0, 3)
    runner.idle()
    assert [a.attempt for _, a in runner.calls] == [2, 3]


def test_runner_unreachable_counts_no_attempt(client, store, runner):
    eid, _ = failed(store, runner, retry_url=closed_port_url())
    for _ in range(2):  # not "already started": the failed call left nothing behind
        resp = retry(client, eid)
        assert resp.status_code == 502
        assert resp.get_json()["code"] == "runner_unreachable"
        assert "unreachable" in resp.get_json()["error"] and "Nothing was retried" in resp.get_json()["error"]
    assert client.get(f"/api/executions/{eid}/retry?check_runner=false").get_json()["next_attempt"] == 2


def test_bad_signature_is_reported_as_such(store, viewer_settings, runner):
    c = create_app(replace(viewer_settings, retry_secret="a different secret"), store, receiver=False).test_client()
    c.csrf = c.get("/api/retry/csrf").get_json()["token"]
    unproven, _ = failed(store, runner)  # recorded under the runner's secret: the viewer cannot trust it
    assert (retry(c, unproven).status_code, retry(c, unproven).get_json()["code"]) == (409, "unproven")
    # Recorded with the viewer's secret, but the listener holds another one: the runner refuses the signature.
    eid, _ = failed(store, runner, proof_secret="a different secret")
    resp = retry(c, eid)
    assert resp.status_code == 502
    assert resp.get_json()["code"] == "bad_signature"
    assert "EXECLOG_RETRY_SECRET" in resp.get_json()["error"]
    assert runner.calls == []


def test_unknown_automation_is_reported(client, store, runner):
    eid, _ = failed(store, runner, name="renamed-automation")
    resp = retry(client, eid)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "unknown_automation")
    assert "unknown to this runner" in resp.get_json()["error"]


def test_trigger_change_is_refused_through_the_viewer(client, store, runner):
    """Use Case 3: after the trigger is reconfigured, retrying says the execution holds the old trigger's
    payload and a new execution must be started; no attempt is counted."""
    eid, _ = failed(store, runner, fingerprint="fingerprint-of-the-old-trigger")
    # Reading the status never contacts the runner; asking it (POST, CSRF token) does.
    preview = client.post("/api/retry/preview", json={"ids": [eid]}, headers={"X-CSRF-Token": client.csrf})
    status = preview.get_json()["items"][0]
    assert (status["retryable"], status["code"]) == (False, "trigger_changed")
    resp = retry(client, eid)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "trigger_changed")
    assert "payload of the previously configured trigger" in resp.get_json()["error"]
    assert "Start a new execution" in resp.get_json()["error"]
    assert runner.calls == []


def test_response_connector_is_refused_without_calling_the_runner(client, store, runner):
    """Limitation 1: a Response connector step makes the execution not retryable, with the reason shown."""
    eid, _ = failed(store, runner, response_step=True)
    status = client.get(f"/api/executions/{eid}/retry").get_json()
    assert (status["retryable"], status["code"]) == (False, "not_retryable")
    resp = retry(client, eid)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "not_retryable")
    assert "Response connector" in resp.get_json()["error"]
    explicit, _ = failed(store, runner, extra={"execlog.retryable": "false",
                                               "execlog.not_retryable_reason": "sends an invoice"})
    assert "sends an invoice" in retry(client, explicit).get_json()["error"]
    assert runner.calls == []


def test_preview_and_bulk(client, store, runner):
    ok1, _ = failed(store, runner)
    ok2, _ = failed(store, runner, payload={"order_id": 8})
    success, _ = add_attempt(store, name=runner.name, status="Success", start_ns=T0, retry_url=runner.url)
    changed, _ = failed(store, runner, fingerprint="old")
    response, _ = failed(store, runner, response_step=True)
    ids = [ok1, ok2, success, changed, response]
    headers = {"X-CSRF-Token": client.csrf}
    preview = client.post("/api/retry/preview", json={"ids": ids}, headers=headers)
    assert preview.status_code == 200, preview.get_json()
    data = preview.get_json()
    assert [i["code"] for i in data["items"]] == ["ok", "ok", "not_failed", "trigger_changed", "not_retryable"]
    assert (data["will_retry"], data["will_not_retry"]) == (2, 3)
    assert runner.calls == []  # a preview changes nothing
    bulk = client.post("/api/retry/bulk", json={"ids": ids}, headers=headers).get_json()
    assert [i["code"] for i in bulk["items"]] == ["accepted", "accepted", "not_failed", "trigger_changed",
                                                  "not_retryable"]
    runner.idle()
    assert sorted(k["order_id"] for k, _ in runner.calls) == [7, 8]
    assert client.post("/api/retry/bulk", json={"ids": ids}).status_code == 403
    assert client.post("/api/retry/preview", json={"ids": "x"}, headers=headers).status_code == 400


def test_retry_without_a_secret_says_how_to_configure_it(store, settings, runner):
    c = create_app(settings, store, receiver=False).test_client()
    token = c.get("/api/retry/csrf").get_json()["token"]
    eid, _ = failed(store, runner)
    resp = c.post(f"/api/executions/{eid}/retry", headers={"X-CSRF-Token": token})
    assert (resp.status_code, resp.get_json()["code"]) == (503, "retry_not_configured")
    assert "EXECLOG_RETRY_SECRET" in resp.get_json()["error"]


def test_unknown_and_malformed_ids(client):
    assert retry(client, "f" * 32).status_code == 404
    resp = retry(client, "nope")
    assert resp.status_code == 400 and "not an execution id" in resp.get_json()["error"]


def test_ten_concurrent_retries_through_the_viewer_start_one_attempt(store, viewer_settings, runner):
    """Ten simultaneous Retry requests for one execution: exactly one attempt starts in the runner."""
    eid, _ = failed(store, runner)
    with serving(viewer_settings, store) as viewer:
        http = urllib3.PoolManager(maxsize=10)
        token_resp = http.request("GET", viewer.url + "/api/retry/csrf")
        token = token_resp.json()["token"]
        headers = {"X-CSRF-Token": token, "Cookie": f"execlog_csrf={token}", "Content-Type": "application/json"}
        barrier = threading.Barrier(10)

        def send(_):
            barrier.wait()
            resp = http.request("POST", f"{viewer.url}/api/executions/{eid}/retry", headers=headers,
                                body=b"{}")  # no attempt given: the next one (the e2e test sends it)
            return resp.status, resp.json()["code"]

        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(send, range(10)))
        http.clear()  # close keep-alive connections so the server stops at once
    runner.idle()
    assert sorted(results) == [(202, "accepted")] + [(202, "already_started")] * 9
    assert len(runner.calls) == 1 and runner.calls[0][1].attempt == 2


def test_the_intended_attempt_is_started_once(client, store, runner):
    eid, _ = failed(store, runner)
    headers = {"X-CSRF-Token": client.csrf}
    bad = client.post(f"/api/executions/{eid}/retry", json={"attempt": 3}, headers=headers)
    assert (bad.status_code, bad.get_json()["code"]) == (409, "not_next_attempt")
    assert client.post(f"/api/executions/{eid}/retry", json={"attempt": "2"}, headers=headers).status_code == 400
    assert client.post(f"/api/executions/{eid}/retry", json={"attempt": 2}, headers=headers).status_code == 202
    # Attempt 2 already ended Failed in the store: a late click for attempt 2 starts nothing new.
    add_attempt(store, name=runner.name, status="Failed", start_ns=T0 + 10**9, execution_id=eid, attempt=2,
                execution_start_ns=T0, retry_url=runner.url)
    late = client.post(f"/api/executions/{eid}/retry", json={"attempt": 2}, headers=headers)
    assert (late.status_code, late.get_json()["code"]) == (202, "already_started")
    runner.idle()
    assert [a.attempt for _, a in runner.calls] == [2]


def test_with_authentication_a_retry_needs_a_signed_in_user(store, viewer_settings, runner):
    c = create_app(replace(viewer_settings, auth_token="viewer-token"), store, receiver=False).test_client()
    eid, _ = failed(store, runner)
    token = c.get("/api/retry/csrf")  # not even the token without signing in
    assert token.status_code == 401
    resp = c.post(f"/api/executions/{eid}/retry", json={"attempt": 2})
    assert resp.status_code == 401 and "sign in" in resp.get_json()["error"]
    assert runner.calls == []
    resp = c.post(f"/api/executions/{eid}/retry", json={"attempt": 2},
                  headers={"Authorization": "Bearer viewer-token"})
    assert (resp.status_code, resp.get_json()["code"]) == (202, "accepted")
    runner.idle()
    assert [a.attempt for _, a in runner.calls] == [2]


@pytest.mark.parametrize("url,allowed", [
    ("file:///etc/passwd", ()),
    ("http://user:pw@127.0.0.1:1/execlog/retry", ()),
    ("http://169.254.169.254/latest/meta-data", ("http://127.0.0.1:",)),
])
def test_announced_urls_are_untrusted(store, viewer_settings, runner, url, allowed):
    """The retry URL comes from span resource attributes: only http(s), only under EXECLOG_RETRY_ALLOWED_URLS."""
    c = create_app(replace(viewer_settings, retry_allowed_urls=allowed), store, receiver=False).test_client()
    c.csrf = c.get("/api/retry/csrf").get_json()["token"]
    eid, _ = failed(store, runner, retry_url=url)
    resp = retry(c, eid)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "url_not_allowed")
    assert "retry URL" in resp.get_json()["error"]
    assert client_preview_code(c, eid) == "url_not_allowed"


def client_preview_code(c, eid):
    resp = c.post("/api/retry/preview", json={"ids": [eid]}, headers={"X-CSRF-Token": c.csrf})
    return resp.get_json()["items"][0]["code"]


def test_allowed_urls_let_the_runner_through(store, viewer_settings, runner):
    prefix = runner.url.rsplit("/execlog", 1)[0]
    c = create_app(replace(viewer_settings, retry_allowed_urls=(prefix,)), store, receiver=False).test_client()
    c.csrf = c.get("/api/retry/csrf").get_json()["token"]
    eid, _ = failed(store, runner)
    assert retry(c, eid).get_json()["code"] == "accepted"
