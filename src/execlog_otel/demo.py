"""Sample executions for ``execlog demo``, recorded with the SDK (``configure``, ``agent``, ``automation``,
``step``) and sent over OTLP/HTTP like any runner's.

Every status appears: Success, Failed, Partially Executed (a failed step, a
skipped step), Rejected (past its time budget), a retried execution (attempt 2),
and four executions still open when ``feed`` returns: Running, Paused, Queued
and Pending (they finish on their own after ``OPEN_FOR_S`` seconds if the
process lives that long). Agents record models, tokens and tools; automations
connectors and the reference fields (event, target, target record id, request
id, triggered by, raised action, executed action ids).
"""

from __future__ import annotations

import random
import threading
import time

from execlog_otel import semconv as sc
from execlog_otel.sdk.attempts import attempt_of
from execlog_otel.sdk.context import current_execution
from execlog_otel.sdk.executions import Execution, agent, automation
from execlog_otel.sdk.steps import step
from execlog_otel.sdk.telemetry import configure

OPEN_FOR_S = 120.0


class UpstreamError(RuntimeError):
    """A connector answered with an error."""


def _research(rng: random.Random, name: str, prompt: str, tools: list[str], model: str, fail: bool) -> None:
    with agent(name, input={"prompt": prompt}, request_id=f"req-{rng.randint(10_000, 99_999)}",
               triggered_by="chat-ui") as run:
        for tool in tools:
            with step(f"chat {model}", kind="llm") as s:
                s.set_input({"messages": [{"role": "user", "content": prompt}]})
                s.record_llm(model=model, input_tokens=rng.randint(200, 900), output_tokens=rng.randint(20, 300),
                             provider="openai" if model.startswith("gpt") else "anthropic")
                s.set_output({"tool_call": tool})
            with step(tool, tool=tool) as s:
                s.set_input({"query": prompt[:40]})
                time.sleep(rng.uniform(0.005, 0.02))
                s.set_output({"results": rng.randint(1, 5)})
        if fail:
            raise UpstreamError("RateLimitError: model quota exceeded")
        run.set_output({"answer": f"Done: {prompt[:30]}"})


@automation("sync-inventory", trigger="schedule", trigger_config={"cron": "*/15 * * * *"}, event="UPDATE",
            target="Product", triggered_by="scheduler")
def sync_inventory(sku: str, warehouse: str = "ams-1") -> dict:
    current_execution().set_fields(request_id=f"req-{sku.lower()}", target_record_id=sku,
                                   raised_action="notify-slack", executed_action_ids=["read-stock", "post-summary"])
    with step("Read stock", kind="connector", connector="Shopify") as s:
        s.set_output({"sku": sku, "on_hand": 42})
    with step("Post summary", kind="connector", connector="Slack") as s:
        s.set_output({"ok": True})
    return {"sku": sku, "synced": True}


@automation("import-orders", trigger="http", trigger_config={"path": "/hooks/orders"}, event="CREATE",
            target="Order")
def import_orders(batch: int, source: str = "partner-api") -> dict:
    current_execution().set_fields(request_id=f"req-batch-{batch}", target_record_id=f"batch-{batch}")
    with step("HTTP trigger", kind="trigger") as s:
        s.set_output({"batch": batch})
    with step("Fetch batch", kind="connector", connector="HTTP") as s:
        s.set_input({"url": f"https://partner.example.com/orders?batch={batch}"})
        raise UpstreamError("HTTP: 502 Bad Gateway")


@automation("publish-entry", trigger="webhook", trigger_config={"content_type": "blog_post"}, event="PUBLISH",
            target="Entry")
def publish_entry(entry_uid: str, locale: str = "en-us") -> dict:
    current_execution().set_fields(target_record_id=entry_uid, raised_action="publish",
                                   executed_action_ids=["publish", "announce"])
    with step("Publish", kind="connector", connector="Contentstack") as s:
        s.set_output({"published": entry_uid})
    try:
        with step("Announce", kind="connector", connector="Slack"):
            raise UpstreamError("Slack: channel_not_found")
    except UpstreamError:
        pass  # the entry is live; only the announcement failed -> Partially Executed
    return {"entry": entry_uid}


@automation("nightly-report", trigger="schedule", trigger_config={"cron": "0 2 * * *"})
def nightly_report(day: str) -> dict:
    with step("Query sales", kind="connector", connector="BigQuery") as s:
        s.set_output({"rows": 1204})
    step("Email report", kind="connector", connector="Email").skip("no recipients subscribed")
    return {"day": day}


def _flaky_webhook(contact_id: str, healthy: bool) -> Execution:
    run = automation("flaky-webhook", trigger="http", trigger_config={"path": "/hooks/crm"}, target="Contact",
                     target_record_id=contact_id, input={"contact_id": contact_id})
    try:
        with run:
            with step("Upsert contact", kind="connector", connector="Salesforce"):
                if not healthy:
                    raise UpstreamError("Salesforce: UNABLE_TO_LOCK_ROW")
            run.set_output({"contact": contact_id})
    except UpstreamError:
        pass
    return run


def _export_archive() -> None:
    with automation("export-archive", trigger="schedule", timeout=0.2, target="Archive"):
        with step("Upload", kind="connector", connector="S3"):
            time.sleep(0.35)  # past the 0.2 s budget -> Rejected


def _open(name: str, kind: str, state: str, until: threading.Event, **fields) -> None:
    """An execution left open in ``state`` until ``until`` is set (or OPEN_FOR_S passes)."""
    make = agent if kind == sc.Kind.AGENT else automation
    initial = state if state in (sc.Status.QUEUED, sc.Status.PENDING) else sc.Status.RUNNING
    with make(name, status=initial, **fields) as run:
        run.set_input({"requested_by": "demo", "state": state})
        if state == sc.Status.RUNNING:
            with step("Copy rows", kind="connector", connector="Postgres"):
                until.wait(OPEN_FOR_S)
            return
        if state == sc.Status.PAUSED:
            with step("Draft refund", kind="action") as s:
                s.set_output({"amount": 42.5})
            run.pause("waiting for manager approval")
        until.wait(OPEN_FOR_S)
        if state == sc.Status.PAUSED:
            run.resume()
        else:
            run.set_state(sc.Status.RUNNING)


def feed(url: str, rounds: int = 1, seed: int = 7) -> int:
    """Send sample executions to the server at ``url``; returns how many were sent."""
    rng = random.Random(seed)
    handle = configure(endpoint=url, service_name="execlog-demo", flush_interval_ms=200)
    count = 0
    for r in range(rounds):
        for i, (name, prompt, tools) in enumerate([
            ("research-agent", "Find three recent papers on retrieval", ["web_search", "summarize"]),
            ("support-agent", "Customer asks for a refund on order 1042", ["lookup_order", "issue_refund"]),
            ("content-writer", "Write a release note for v2", ["web_search"]),
        ]):
            try:
                _research(rng, name, prompt, tools, rng.choice(["gpt-4o-mini", "claude-sonnet-4"]), fail=(i == 1))
            except UpstreamError:
                pass
            count += 1
        runs = [
            (sync_inventory, (f"SKU-{r}",)),
            (import_orders, (30 + r,)),
            (publish_entry, (f"blt{r:04d}ab",)),
            (nightly_report, (time.strftime("%Y-%m-%d"),)),
            (_export_archive, ()),
        ]
        for fn, args in runs:
            try:
                fn(*args)
            except UpstreamError:
                pass
            count += 1
        # A failed execution, retried: attempt 2 of the same execution succeeds (what Retry Execution does).
        first = _flaky_webhook(f"003{r:05d}", healthy=False)
        with attempt_of(first.execution_id, 2, first.execution_start_ns, first.root_span_id):
            _flaky_webhook(f"003{r:05d}", healthy=True)
        count += 1
    # Four executions still open when feed returns.
    release = threading.Event()
    for name, kind, state, fields in [
        ("migrate-customers", sc.Kind.AUTOMATION, sc.Status.RUNNING, {"target": "Customer"}),
        ("approve-refund", sc.Kind.AGENT, sc.Status.PAUSED, {"request_id": "req-refund-1042"}),
        ("throttled-sync", sc.Kind.AUTOMATION, sc.Status.QUEUED, {"event": "UPDATE"}),
        ("webhook-intake", sc.Kind.AUTOMATION, sc.Status.PENDING, {"triggered_by": "github"}),
    ]:
        threading.Thread(target=_open, args=(name, kind, state, release), kwargs=fields, daemon=True,
                         name=f"demo-{name}").start()
        count += 1
    time.sleep(0.3)  # let them reach their state
    handle.force_flush()
    return count


def sleep_forever() -> None:
    time.sleep(3600)
