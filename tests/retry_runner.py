"""A real runner process for the retry end-to-end tests: the SDK, four automations and the retry listener.

Run as ``python tests/retry_runner.py STATE_DIR``; environment: EXECLOG_ENDPOINT (the execlog serve URL),
EXECLOG_RETRY_SECRET, EXECLOG_RETRY_LISTEN (host:port of the listener, default any free port),
TRIGGER_VERSION (the trigger configuration of ``reconfigurable``), STEP_FIXED=1 (``always-fails`` fixed).
``configure(retry_listener=...)`` starts the listener; the script prints ``ready <listener url>``,
then reads commands on stdin: ``run <name> <json payload>`` runs an
automation once and prints ``ran <execution id> <status>``; ``quit`` flushes and exits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import execlog_otel
from execlog_otel.retry.listener import process_listener

STATE = Path(sys.argv[1])
calls: dict[str, int] = {}
last_execution_id = [""]


def count(name: str) -> int:
    """How often ``name`` ran in this process (first run, then retries); notes the execution's id."""
    run = execlog_otel.current_execution()
    last_execution_id[0] = run.execution_id if run else ""
    calls[name] = calls.get(name, 0) + 1
    (STATE / f"{name}.calls").write_text(str(calls[name]))
    return calls[name]


@execlog_otel.automation("flaky-sync", trigger="http")
def flaky_sync(order_id: int) -> dict:
    """Fails once (a server error at the exact time of execution), then succeeds."""
    with execlog_otel.step("Fetch order", kind="connector", connector="Shop"):
        if count("flaky-sync") == 1:
            raise ConnectionError("shop API answered 503")
    return {"order_id": order_id, "synced": True}


@execlog_otel.automation("always-fails", trigger="http")
def always_fails(order_id: int) -> dict:
    """An unconfigured action step: fails on every attempt."""
    count("always-fails")
    with execlog_otel.step("Update entry", kind="action"):
        if os.environ.get("STEP_FIXED") != "1":  # Use Case 2: the step gets reconfigured
            raise ValueError(f"action step not configured (order {order_id})")
    return {"order_id": order_id, "updated": True}


@execlog_otel.automation("answers-caller", trigger="http")
def answers_caller(order_id: int) -> dict:
    """Answers its HTTP caller through a Response connector step, then fails."""
    count("answers-caller")
    with execlog_otel.step("Respond", kind="response", connector="Response"):
        pass
    raise RuntimeError("post-processing failed")


@execlog_otel.automation("reconfigurable", trigger="http",
                         trigger_config={"trigger": "http", "version": os.environ.get("TRIGGER_VERSION", "1")})
def reconfigurable(order_id: int) -> dict:
    count("reconfigurable")
    raise RuntimeError("fails until reconfigured")


AUTOMATIONS = {"flaky-sync": flaky_sync, "always-fails": always_fails, "answers-caller": answers_caller,
               "reconfigurable": reconfigurable}


def main() -> None:
    # configure() starts the retry listener and announces its URL in the resource attributes.
    telemetry = execlog_otel.configure(service_name="retry-runner",
                                       retry_listener=os.environ.get("EXECLOG_RETRY_LISTEN") or "127.0.0.1:0")
    listener = process_listener()
    print("ready", listener.url, flush=True)
    for line in sys.stdin:
        parts = line.strip().split(" ", 2)
        if parts[0] == "quit":
            break
        if parts[0] == "run":
            payload = json.loads(parts[2]) if len(parts) > 2 else {}
            status = "Success"
            try:
                AUTOMATIONS[parts[1]](**payload)
            except Exception:  # noqa: BLE001 - the execution records the failure
                status = "Failed"
            telemetry.force_flush()
            print("ran", last_execution_id[0], status, flush=True)
    listener.listener.wait_idle(30)
    telemetry.force_flush()
    listener.close()


if __name__ == "__main__":
    main()
