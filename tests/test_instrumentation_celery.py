"""Celery instrumentation with a real worker (threads pool) on the in-memory broker."""

from __future__ import annotations

import inspect
import threading
import time

import pytest
from celery import Celery, signals
from celery.contrib.testing.worker import start_worker

import execlog_otel as ex
from execlog_otel.instrumentation.celery import CeleryInstrumentor, execution_id_of
from execlog_otel.sdk import registry
from execlog_otel.store.repository import Repository
from sdk_support import Api, wait_for


@pytest.fixture
def telemetry(server):
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="celery-tests")
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument()
    yield handle
    instrumentor.uninstrument()
    handle.shutdown()


@pytest.fixture
def app() -> Celery:
    app = Celery("t", broker="memory://", backend="cache+memory://", set_as_current=False)
    app.conf.update(broker_transport_options={"polling_interval": 0.05}, worker_hijack_root_logger=False)
    return app


def worker(app: Celery):
    return start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING",
                        shutdown_timeout=10)


def test_pending_running_success_visible_live_with_task_id_as_execution_id(telemetry, server, app):
    api = Api(server.url)
    release = threading.Event()

    @app.task(name="jobs.long_import")
    def long_import(batch: int) -> dict:
        with ex.step("Load rows", kind="connector", connector="Postgres"):
            release.wait(30)
        return {"batch": batch}

    result = long_import.delay(7)  # published; no worker yet
    item = api.wait_status("jobs.long_import", "Pending")
    assert item["id"] == execution_id_of(result.id)
    with worker(app):
        item = api.wait_status("jobs.long_import", "Running")
        assert item["live"] and item["ended_at"] is None and item["id"] == execution_id_of(result.id)
        release.set()
        assert result.get(timeout=30) == {"batch": 7}
    telemetry.force_flush()
    item = api.wait_status("jobs.long_import", "Success")
    assert item["connectors"] == ["Postgres"] and item["steps"] == 1
    assert len(api.list(name="jobs.long_import")) == 1
    assert [a["attempt"] for a in api.detail(item["id"])["attempts"]] == [1]


def test_celery_retries_are_attempts_of_one_execution(telemetry, server, app):
    """Also when the next attempt starts before the worker has finished the previous one (a busy worker:
    the retry's message is sent before the previous run's last signals)."""
    api = Api(server.url)
    calls: list[int] = []

    def busy_after_first_retry(sender=None, request=None, **_):
        if request is not None and request.retries == 0:
            time.sleep(1.0)  # attempt 2 (countdown 0.05) starts on the other worker thread meanwhile

    signals.task_retry.connect(busy_after_first_retry, weak=False)

    @app.task(bind=True, name="jobs.flaky", max_retries=3)
    def flaky(self, n: int) -> int:
        calls.append(n)
        if len(calls) < 3:
            raise self.retry(exc=ConnectionError(f"try {len(calls)}"), countdown=0.05)
        return n * 2

    try:
        with worker(app):
            assert flaky.delay(21).get(timeout=30) == 42
    finally:
        signals.task_retry.disconnect(busy_after_first_retry)
    telemetry.force_flush()
    item = api.wait_until("jobs.flaky", lambda i: i["status"] == "Success" and i["attempt"] == 3,
                          "the third attempt to succeed")
    attempts = api.detail(item["id"])["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "Failed"), (2, "Failed"), (3, "Success")]
    assert len(api.list(name="jobs.flaky")) == 1


def test_failure_time_budget_and_expiry(telemetry, server, app):
    api = Api(server.url)

    @app.task(name="jobs.broken")
    def broken(order: dict) -> None:
        raise KeyError(order["missing"] if "missing" in order else "sku")

    @app.task(name="jobs.slow", soft_time_limit=0.3)
    def slow() -> str:
        time.sleep(1.0)  # the threads pool cannot interrupt it; the execution is Rejected all the same
        return "late"

    @app.task(name="jobs.expired")
    def expired() -> None:
        raise AssertionError("an expired task must not run")

    expired.apply_async(expires=0.05)
    time.sleep(0.3)
    with worker(app):
        with pytest.raises(KeyError):
            broken.delay({"id": 1}).get(timeout=30)
        assert slow.delay().get(timeout=30) == "late"
        wait_for(lambda: api.by_name("jobs.expired"), "the expired task to be recorded")
    telemetry.force_flush()
    failed = api.wait_status("jobs.broken", "Failed")
    assert failed["status_message"] == "KeyError: 'sku'"
    rejected = api.wait_until("jobs.slow", lambda i: i["ended_at"], "slow end")
    assert rejected["status"] == "Rejected" and "time budget" in rejected["status_message"]
    gone = api.wait_status("jobs.expired", "Rejected")
    assert "expired" in gone["status_message"]


def test_a_retry_from_the_viewer_reruns_the_task_as_the_next_attempt(telemetry, server, app):
    """What the retry listener does: the registered entry of the task, called inside attempt_of()."""
    api = Api(server.url)

    @app.task(name="jobs.charge")
    def charge(amount: int) -> dict:
        if amount <= 0:
            raise ValueError("amount must be positive")
        return {"charged": amount}

    with worker(app):
        with pytest.raises(ValueError):
            charge.delay(0).get(timeout=30)
    telemetry.force_flush()
    first = api.wait_status("jobs.charge", "Failed")
    registered = registry.get("jobs.charge")
    assert registered is not None and registered.trigger_fingerprint == first["trigger_fingerprint"]
    inspect.signature(registered.fn).bind(amount=5)  # the listener checks the payload binds
    first_root = next(r for r in Repository(server.store).trace_spans(first["trace_id"]) if not r["ParentSpanId"])
    with ex.attempt_of(first["id"], 2, first_root["StartNs"], first_root["SpanId"]):
        assert registered.fn(amount=5) == {"charged": 5}
    telemetry.force_flush()
    item = api.wait_until("jobs.charge", lambda i: i["attempt"] == 2, "attempt 2")
    assert item["status"] == "Success" and item["id"] == first["id"]
    assert [a["status"] for a in api.detail(item["id"])["attempts"]] == ["Failed", "Success"]


def test_uninstrument_stops_recording(telemetry, server, app):
    api = Api(server.url)
    CeleryInstrumentor().uninstrument()

    @app.task(name="jobs.unrecorded")
    def unrecorded() -> int:
        return 1

    with worker(app):
        assert unrecorded.delay().get(timeout=30) == 1
    with ex.automation("control-run"):  # exported after the task's spans would have been
        pass
    telemetry.force_flush()
    api.wait_status("control-run", "Success")
    assert api.by_name("jobs.unrecorded") is None
    CeleryInstrumentor().instrument()
