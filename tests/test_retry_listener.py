"""The runner's retry listener: signature, freshness, replay, idempotency, known automation, trigger check.

Driven through Flask's test client and, for concurrency and the background server, over real HTTP.
Issue tests: "a bad signature and a stale timestamp are rejected by the listener" (test_bad_signature_*,
test_stale_*); Use Case 3 at the runner (test_changed_trigger_configuration_is_refused_with_the_reference_message).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
from tests.retry_support import SECRET, signed

from execlog_otel.retry.listener import RetryListener, parse_listen, start_retry_listener
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import current_attempt

EXEC_ID = "ab" * 16


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[dict, object]] = []
        self.done = threading.Event()

    def __call__(self, **kwargs):
        self.calls.append((kwargs, current_attempt()))
        self.done.set()
        return "ok"


@pytest.fixture
def automation():
    name = f"sync-{uuid.uuid4().hex[:8]}"
    rec = Recorder()

    def sync_orders(order_id, region="eu"):
        return rec(order_id=order_id, region=region)

    registry.register(name, "automation", sync_orders, trigger_fingerprint="fp1")
    return name, rec


@pytest.fixture
def listener():
    return RetryListener(SECRET)


@pytest.fixture
def client(listener):
    return listener.wsgi_app().test_client()


def body(name: str, attempt: int = 2, **kw) -> dict:
    data = {"execution_id": EXEC_ID, "attempt": attempt, "name": name, "trigger_payload": {"order_id": 7},
            "trigger_fingerprint": "fp1", "execution_start_ns": 123, "first_root_span_id": "cd" * 8}
    data.update(kw)
    return data


def post(client, data, secret=SECRET, now=None, path="/execlog/retry"):
    raw, headers = signed(data, secret, now)
    return client.post(path, data=raw, headers=headers)


def test_accepts_and_runs_the_automation_as_attempt_n(client, listener, automation):
    name, rec = automation
    resp = post(client, body(name))
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["status"] == "accepted"
    assert listener.wait_idle(10)
    kwargs, attempt = rec.calls[0]
    assert kwargs == {"order_id": 7, "region": "eu"}
    assert (attempt.execution_id, attempt.attempt, attempt.execution_start_ns, attempt.first_root_span_id) == \
        (EXEC_ID, 2, 123, "cd" * 8)


def test_same_idempotency_key_runs_once(client, listener, automation):
    name, rec = automation
    assert post(client, body(name)).status_code == 202
    again = post(client, body(name))  # a network retry: freshly signed, same execution and attempt
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    listener.wait_idle(10)
    assert len(rec.calls) == 1
    assert post(client, body(name, attempt=3)).status_code == 202  # the next attempt is a new key
    listener.wait_idle(10)
    assert len(rec.calls) == 2


def test_bad_signature_is_rejected_and_nothing_runs(client, listener, automation):
    name, rec = automation
    resp = post(client, body(name), secret="not the shared secret")
    assert resp.status_code == 401
    assert resp.get_json()["code"] == "bad_signature"
    assert "EXECLOG_RETRY_SECRET" in resp.get_json()["error"]
    raw, headers = signed(body(name))
    tampered = raw.replace(b'"order_id": 7', b'"order_id": 8')
    resp = client.post("/execlog/retry", data=tampered, headers=headers)
    assert (resp.status_code, resp.get_json()["code"]) == (401, "bad_signature")
    unsigned = client.post("/execlog/retry", json=body(name))
    assert (unsigned.status_code, unsigned.get_json()["code"]) == (401, "bad_signature")
    listener.wait_idle(5)
    assert rec.calls == [] and listener.accepted_keys == []


def test_stale_timestamp_is_rejected(client, listener, automation):
    name, rec = automation
    resp = post(client, body(name), now=time.time() - 6 * 60)
    assert resp.status_code == 401
    assert resp.get_json()["code"] == "stale"
    assert rec.calls == [] and listener.accepted_keys == []


def test_replayed_request_is_rejected(client, automation):
    name, _ = automation
    raw, headers = signed(body(name))
    assert client.post("/execlog/retry", data=raw, headers=headers).status_code == 202
    replay = client.post("/execlog/retry", data=raw, headers=headers)
    assert (replay.status_code, replay.get_json()["code"]) == (409, "replayed")


def test_unknown_automation_is_refused(client, listener):
    resp = post(client, body("no-such-automation"))
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "unknown_automation"
    assert "automation 'no-such-automation' is unknown to this runner" in resp.get_json()["error"]
    assert listener.accepted_keys == []


def test_changed_trigger_configuration_is_refused_with_the_reference_message(client, listener, automation):
    """Use Case 3 (runner side): the execution holds the payload of the previously configured trigger."""
    name, rec = automation
    resp = post(client, body(name, trigger_fingerprint="fp-before-reconfiguring"))
    assert resp.status_code == 409
    data = resp.get_json()
    assert data["code"] == "trigger_changed"
    assert "payload of the previously configured trigger" in data["error"]
    assert "Start a new execution" in data["error"]
    assert rec.calls == [] and listener.accepted_keys == []


def test_payload_that_does_not_fit_the_parameters_is_refused(client, automation):
    name, _ = automation
    resp = post(client, body(name, trigger_payload={"unexpected": 1}))
    assert (resp.status_code, resp.get_json()["code"]) == (422, "bad_payload")
    assert "parameters" in resp.get_json()["error"]


@pytest.mark.parametrize("change,message", [
    ({"execution_id": "nope"}, "execution_id"),
    ({"attempt": 1}, "attempt 2 or later"),
    ({"attempt": "2"}, "attempt"),
    ({"execution_start_ns": None}, "execution_start_ns"),
    ({"first_root_span_id": "zz"}, "first_root_span_id"),
    ({"idempotency_key": "other:2"}, "idempotency_key"),
])
def test_malformed_requests_get_400_with_a_message(client, automation, change, message):
    name, _ = automation
    resp = post(client, body(name, **change))
    assert resp.status_code == 400
    assert message in resp.get_json()["error"]


def test_not_json_and_wrong_path(client):
    raw, headers = signed(b"not json")
    resp = client.post("/execlog/retry", data=raw, headers=headers)
    assert (resp.status_code, resp.get_json()["code"]) == (400, "bad_request")
    assert client.get("/elsewhere").status_code == 404


def test_check_reports_known_unknown_and_changed(client, automation):
    name, rec = automation
    items = [{"name": name, "trigger_fingerprint": "fp1"}, {"name": name, "trigger_fingerprint": "old"},
             {"name": "ghost", "trigger_fingerprint": "fp1"}]
    resp = post(client, {"items": items}, path="/execlog/retry/check")
    assert resp.status_code == 200, resp.get_json()
    assert [i["code"] for i in resp.get_json()["items"]] == ["ok", "trigger_changed", "unknown_automation"]
    assert rec.calls == []
    assert post(client, {"items": items}, secret="wrong", path="/execlog/retry/check").status_code == 401


def test_async_automations_run_too(client, listener):
    seen = []

    async def notify(user):
        seen.append((user, current_attempt().attempt))

    name = f"notify-{uuid.uuid4().hex[:6]}"
    registry.register(name, "automation", notify, trigger_fingerprint="fp1")
    assert post(client, body(name, trigger_payload={"user": "ann"})).status_code == 202
    listener.wait_idle(10)
    assert seen == [("ann", 2)]


def test_a_listener_needs_a_secret(monkeypatch):
    monkeypatch.delenv("EXECLOG_RETRY_SECRET", raising=False)
    with pytest.raises(ValueError, match="EXECLOG_RETRY_SECRET"):
        RetryListener("")


def test_background_server_runs_ten_concurrent_duplicates_once(automation):
    """Ten concurrent requests for one attempt reaching the runner start it once (idempotency key)."""
    name, rec = automation
    running = start_retry_listener("127.0.0.1", 0, SECRET)
    try:
        assert running.url.endswith("/execlog/retry")
        http = urllib3.PoolManager(maxsize=10)

        def send(_):
            raw, headers = signed(body(name))
            return http.request("POST", running.url, body=raw, headers=headers).status

        with ThreadPoolExecutor(10) as pool:
            statuses = sorted(pool.map(send, range(10)))
        running.listener.wait_idle(10)
        assert statuses == [200] * 9 + [202]
        assert len(rec.calls) == 1
        assert json.loads(http.request("GET", running.url + "/health").data) == {"status": "ok"}
    finally:
        running.close()


def test_parse_listen():
    assert parse_listen("0.0.0.0:4319") == ("0.0.0.0", 4319)
    assert parse_listen(":4319") == ("127.0.0.1", 4319)
    with pytest.raises(ValueError, match="host:port"):
        parse_listen("localhost")


def test_oversized_bodies_are_refused_before_verifying(automation):
    small = RetryListener(SECRET, max_body_bytes=1000)
    client = small.wsgi_app().test_client()
    name, rec = automation
    resp = post(client, body(name, trigger_payload={"order_id": "x" * 2000}))
    assert (resp.status_code, resp.get_json()["code"]) == (413, "too_large")
    assert rec.calls == []
