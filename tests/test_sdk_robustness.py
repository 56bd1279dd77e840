"""The SDK never changes what the user's program does: a payload whose ``repr`` raises, an exception
whose ``__str__`` raises, ``sys.exit()`` or Ctrl-C inside an execution reach (or spare) the user's code as
they would without the log, leave no execution or span current, and are recorded sensibly.
End to end: SDK -> OTLP/HTTP -> execlog serve (real app, real store) -> /api/executions."""

from __future__ import annotations

import json
import sys

import pytest
from opentelemetry import trace

import execlog_otel as ex
from execlog_otel import semconv as sc
from execlog_otel.sdk.executions import fingerprint
from execlog_otel.sdk.payloads import to_json
from execlog_otel.store.repository import Repository
from sdk_support import Api


class Weird:
    def __repr__(self) -> str:
        raise RuntimeError("repr boom")


class BadStr:
    def __str__(self) -> str:
        raise RuntimeError("str boom")


class BadExc(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str boom")


def root_attributes(api: Api, item: dict) -> dict:
    spans = Repository(api.store).trace_spans(item["trace_id"])
    return next(r for r in spans if not r["ParentSpanId"])["SpanAttributes"]


def assert_nothing_current() -> None:
    assert ex.current_execution() is None
    assert ex.current_step() is None
    assert not trace.get_current_span().get_span_context().is_valid


def assert_later_runs_are_roots(telemetry, api: Api, name: str) -> None:
    """An execution started afterwards is its own listed execution, not a step of a run left open."""
    with ex.agent(name) as run:
        run.set_output({"ok": True})
    telemetry.force_flush()
    item = api.wait_status(name, "Success")
    assert api.detail(item["id"])["steps"] == []
    assert json.loads(root_attributes(api, item)[sc.OUTPUT]) == {"ok": True}


def test_payloads_whose_repr_raises_are_recorded_by_type_and_the_program_goes_on(telemetry, api):
    @ex.agent("repr-decorated")
    def decorated(order: object) -> object:
        return order

    with ex.agent("repr-weird", input={"order": Weird()}) as run:  # raised RuntimeError before the fix
        with ex.step("lookup") as s:
            s.set_input(Weird())
        run.set_output([Weird()])
    weird = Weird()
    assert decorated(weird) is weird
    assert_nothing_current()
    telemetry.force_flush()
    item = api.wait_status("repr-weird", "Success")
    root = root_attributes(api, item)
    assert json.loads(root[sc.INPUT]) == {"order": "<unrepresentable Weird>"}
    assert json.loads(root[sc.OUTPUT]) == ["<unrepresentable Weird>"]
    assert api.detail(item["id"])["steps"][0]["input"]["value"] == "<unrepresentable Weird>"
    decorated_item = api.wait_status("repr-decorated", "Success")
    assert json.loads(root_attributes(api, decorated_item)[sc.INPUT]) == {"order": "<unrepresentable Weird>"}
    assert_later_runs_are_roots(telemetry, api, "repr-after")


def test_the_unserializable_fallback_never_raises(telemetry):
    # A dict key json cannot take sends the payload to the fallback, which used to repr it again.
    assert json.loads(to_json({(1, 2): Weird(), "api_key": "sk-live"})) == {
        "unserializable": "{(1, 2): '<unrepresentable Weird>', 'api_key': '***'}"}


def test_a_failing_redaction_hook_records_nothing_it_was_meant_to_see(telemetry):
    def failing_hook(key, value):
        raise ValueError("hook bug")

    ex.configure(redact=failing_hook)  # the fixture's shutdown drops the hook for the next configure()
    text = to_json({"note": "ssn 123-45-6789"})
    assert "123-45-6789" not in text
    assert json.loads(text) == {"unserializable": "<dict withheld: masking or the redaction hook failed>"}


def test_an_exception_whose_str_raises_reaches_the_user_unchanged_and_the_run_ends_failed(telemetry, api):
    boom = BadExc()
    with pytest.raises(BadExc) as caught:  # the SDK's RuntimeError("str boom") came out before the fix
        with ex.agent("badexc-with"):
            with ex.step("fetch"):
                raise boom
    assert caught.value is boom
    assert_nothing_current()

    @ex.automation("badexc-decorated")
    def decorated() -> None:
        raise boom

    with pytest.raises(BadExc) as caught:
        decorated()
    assert caught.value is boom
    assert_nothing_current()

    telemetry.force_flush()
    item = api.wait_status("badexc-with", "Failed")
    assert item["status_message"] == "BadExc: <exception str() failed>"
    step = api.detail(item["id"])["steps"][0]
    assert step["name"] == "fetch" and step["status"] == "Failed"
    assert api.wait_status("badexc-decorated", "Failed")["status_message"] == "BadExc: <exception str() failed>"
    assert_later_runs_are_roots(telemetry, api, "badexc-after")


@pytest.mark.parametrize(("code", "status", "message"), [
    (0, "Success", ""), (None, "Success", ""), (False, "Success", ""),
    (3, "Failed", "SystemExit: 3"), ("config missing", "Failed", "SystemExit: config missing"),
], ids=["exit-0", "exit-None", "exit-False", "exit-3", "exit-message"])
def test_sys_exit_ends_the_run_as_the_exit_code_says_and_still_exits(telemetry, api, code, status, message):
    name = f"exit-{code!r}"

    @ex.automation(name)
    def cli() -> None:
        with ex.step("work"):
            pass
        with ex.step("exit"):
            sys.exit(code)

    with pytest.raises(SystemExit) as caught:
        cli()
    assert caught.value.code == code
    assert_nothing_current()
    telemetry.force_flush()
    item = api.wait_status(name, status)  # sys.exit(0) was "Failed: SystemExit: 0" before the fix
    assert item["status_message"] == message
    steps = {s["name"]: s["status"] for s in api.detail(item["id"])["steps"]}
    assert steps == {"work": "Success", "exit": status}


def test_sys_exit_in_a_with_block_and_ctrl_c_keep_their_meaning(telemetry, api):
    with pytest.raises(SystemExit):
        with ex.agent("exit-with"):
            sys.exit()
    with pytest.raises(KeyboardInterrupt):
        with ex.agent("ctrl-c"):
            raise KeyboardInterrupt
    assert_nothing_current()
    telemetry.force_flush()
    assert api.wait_status("exit-with", "Success")["status_message"] == ""
    # Interrupted before its end: the run did not finish what it set out to do.
    assert api.wait_status("ctrl-c", "Failed")["status_message"] == "KeyboardInterrupt"


def test_a_start_interrupted_midway_leaves_nothing_current(telemetry, api):
    def hook(key, value):
        if isinstance(value, dict) and value.get("ctrl_c"):
            raise KeyboardInterrupt  # as Ctrl-C in a notebook lands wherever the code is
        return value

    ex.configure(redact=hook)
    with pytest.raises(KeyboardInterrupt):
        with ex.agent("interrupted-start", input={"ctrl_c": True}):
            pytest.fail("the body runs only once the execution has started")
    assert_nothing_current()  # before the fix the interrupted run stayed current

    @ex.step
    def lookup(ctrl_c: bool) -> None:
        pytest.fail("the body runs only once the step has started")

    with ex.agent("interrupted-step") as run:
        with pytest.raises(KeyboardInterrupt):
            lookup(True)
        assert ex.current_step() is None and ex.current_execution() is run
    assert_nothing_current()

    telemetry.force_flush()
    assert api.wait_status("interrupted-start", "Failed")["status_message"] == "KeyboardInterrupt"
    item = api.wait_status("interrupted-step", "Success")
    assert [(s["name"], s["status"]) for s in api.detail(item["id"])["steps"]] == [("lookup", "Failed")]
    assert_later_runs_are_roots(telemetry, api, "interrupted-after")


def test_an_async_budget_that_cannot_start_leaves_nothing_current(telemetry, api):
    async def body() -> None:
        async with ex.agent("budget-outside-a-task", timeout=5):
            pytest.fail("asyncio.timeout needs a running task")

    coro = body()
    with pytest.raises(RuntimeError):
        coro.send(None)  # driven by hand, not by an event loop: no task for asyncio.timeout
    assert_nothing_current()
    telemetry.force_flush()
    assert api.wait_status("budget-outside-a-task", "Failed")["status_message"].startswith("RuntimeError")
    assert_later_runs_are_roots(telemetry, api, "budget-after")


def test_fields_and_trigger_configs_that_cannot_be_written_as_given_do_not_crash_the_call(telemetry, api):
    config = {1: "one", "b": 2}  # keys json cannot sort together
    assert fingerprint(config) == fingerprint(dict(config))

    @ex.automation("odd-fields", trigger_config=config, target=BadStr(), executed_action_ids=["a1", BadStr()])
    def odd() -> str:
        return "done"

    assert odd() == "done"
    telemetry.force_flush()
    item = api.wait_status("odd-fields", "Success")
    assert item["target"] == "<unrepresentable BadStr>"
    assert item["trigger_fingerprint"] == fingerprint(config)


def test_an_exit_from_a_signal_handler_fails_the_run_it_cut_off(telemetry, api):
    """A worker's graceful-stop handler (SIGTERM -> sys.exit(0)) ended the run it interrupted as Success,
    though the run never finished; a plain sys.exit(0) still ends a run Success."""
    import os
    import signal
    import time

    def stop(signum, frame):  # noqa: ARG001 - the usual graceful stop of a worker
        sys.exit(0)

    previous = signal.signal(signal.SIGUSR1, stop)
    try:
        with pytest.raises(SystemExit) as caught:
            with ex.automation("told-to-stop"):
                with ex.step("long work"):
                    os.kill(os.getpid(), signal.SIGUSR1)
                    time.sleep(5)  # the handler runs here and exits
                    pytest.fail("the signal's handler did not run")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert caught.value.code == 0
    assert_nothing_current()
    telemetry.force_flush()
    item = api.wait_status("told-to-stop", "Failed")
    assert item["status_message"] == "SIGUSR1: the program was told to stop and exited (0) before the run ended"
    assert [s["status"] for s in api.detail(item["id"])["steps"]] == ["Failed"]
