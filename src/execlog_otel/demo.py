"""Sample executions for ``execlog demo``, recorded with the SDK (``configure``, ``agent``, ``automation``,
``step``) and sent over OTLP/HTTP like any runner's.

Every status appears: Success, Failed, Partially Executed (a failed step, a
skipped step), Rejected (past its time budget), and four executions still open
when ``feed`` returns: Running, Paused, Queued and Pending. They stay in those states for as long as
the demo process runs (a reader who looks around before clicking still finds them live). Agents record
models, tokens and tools; automations connectors and the reference fields
(event, target, target record id, request id, triggered by, raised action,
executed action ids).

Retry Execution (the reference document's use cases and limitations), when ``feed``
gets a ``retry_secret`` (``execlog demo`` does): this process runs the SDK's retry
listener, so the viewer can re-run the ``@automation`` functions below:

- ``flaky-webhook``: its connector fails the first time and is fixed afterwards; one
  execution is left Failed (Retry turns it into Success, attempt 2 of 3), one was
  already retried (Success on attempt 2);
- ``import-orders``: fails on every attempt; retry it twice and the limit is reached;
- ``renew-certificate``: already failed all 3 attempts (the Retry affordance is gone);
- ``answer-form``: answered its caller through a Response connector, so it cannot be retried;
- ``route-ticket``: its trigger was reconfigured after it failed, so a retry is refused.

Projects: the agents are recorded in project ``assistants``, the automations (and the retries the viewer
asks for) in project ``operations`` (the resource attribute ``execlog.project``, switched between them).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import replace

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from execlog_otel import semconv as sc
from execlog_otel.config import Settings
from execlog_otel.retry.listener import process_listener
from execlog_otel.sdk.attempts import attempt_of
from execlog_otel.sdk.context import current_execution
from execlog_otel.sdk.executions import agent, automation
from execlog_otel.sdk.steps import step
from execlog_otel.sdk.telemetry import Telemetry, _merge_resource, configure

LISTEN = "127.0.0.1:0"  # the retry listener: loopback, any free port
AGENTS_PROJECT, AUTOMATIONS_PROJECT = "assistants", "operations"  # the demo's two projects

# The connector of flaky-webhook is "fixed" after the first attempt for each contact (per process).
_flaky_attempts: dict[str, int] = {}
_feeds = itertools.count(1)  # contacts are new on every feed() call, so each call leaves one Failed
# Never set: the open executions wait on it for as long as the process lives (an unbounded wait, so
# no clock turns them into Success behind the reader's back).
_release = threading.Event()


class _FirstAttempts(SpanProcessor):
    """Remembers each finished execution root (by name), so the demo can run its later attempts."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, int, str]] = {}  # name -> (execution id, start ns, root span id)

    def on_end(self, span: ReadableSpan) -> None:
        attrs = span.attributes or {}
        if span.parent is None and sc.KIND in attrs and sc.RETRY_OF not in attrs:
            self.last[str(attrs.get(sc.EXECUTION_NAME))] = (
                f"{span.context.trace_id:032x}", int(attrs.get(sc.EXECUTION_START) or span.start_time or 0),
                f"{span.context.span_id:016x}")


_first_attempts = _FirstAttempts()
_watched: set[int] = set()
_telemetry: list[Telemetry] = []  # what feed() configured, for stop()


def _chat_with_tools(prompt: str, model: str, tools: list[str]) -> dict:
    """An agent's loop: the model picks each tool, the tool answers. Tokens depend on the prompt only."""
    current_execution().set_fields(request_id=f"req-{len(prompt) * 97}", triggered_by="chat-ui")
    for tool in tools:
        with step(f"chat {model}", kind="llm") as s:
            s.set_input({"messages": [{"role": "user", "content": prompt}]})
            # The system prompt (two thirds of the input) is read from the provider's prompt cache.
            s.record_llm(model=model, input_tokens=12 * len(prompt), output_tokens=40 + 9 * len(tool),
                         cache_read_input_tokens=8 * len(prompt),
                         provider="openai" if model.startswith("gpt") else "anthropic")
            s.set_output({"tool_call": tool})
        with step(tool, tool=tool) as s:
            s.set_input({"query": prompt[:40]})
            time.sleep(0.01)
            if tool == "issue_refund":
                raise PermissionError("issue_refund: refunds over 40 EUR need a manager's approval")
            s.set_output({"results": len(prompt) % 5 + 1})
    return {"answer": f"Done: {prompt[:30]}"}


research_agent = agent("research-agent")(_chat_with_tools)
support_agent = agent("support-agent")(_chat_with_tools)
content_writer = agent("content-writer")(_chat_with_tools)


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
    """Fails on every attempt: retry it twice and the retry limit is reached."""
    current_execution().set_fields(request_id=f"req-batch-{batch}", target_record_id=f"batch-{batch}")
    with step("HTTP trigger", kind="trigger") as s:
        s.set_output({"batch": batch})
    with step("Fetch batch", kind="connector", connector="HTTP") as s:
        s.set_input({"url": f"https://partner.example.com/orders?batch={batch}"})
        raise ConnectionError("HTTP: 502 Bad Gateway")


@automation("publish-entry", trigger="webhook", trigger_config={"content_type": "blog_post"}, event="PUBLISH",
            target="Entry")
def publish_entry(entry_uid: str, locale: str = "en-us") -> dict:
    current_execution().set_fields(target_record_id=entry_uid, raised_action="publish",
                                   executed_action_ids=["publish", "announce"])
    with step("Publish", kind="connector", connector="Contentstack") as s:
        s.set_output({"published": entry_uid})
    try:
        with step("Announce", kind="connector", connector="Slack"):
            raise ConnectionError("Slack: channel_not_found")
    except ConnectionError:
        pass  # the entry is live; only the announcement failed -> Partially Executed
    return {"entry": entry_uid}


@automation("nightly-report", trigger="schedule", trigger_config={"cron": "0 2 * * *"})
def nightly_report(day: str) -> dict:
    # A paid query: its cost as the runner knows it, summed with token costs.
    with step("Query sales", kind="connector", connector="BigQuery", cost_usd=0.0125) as s:
        s.set_output({"rows": 1204})
    step("Email report", kind="connector", connector="Email").skip("no recipients subscribed")
    return {"day": day}


@automation("flaky-webhook", trigger="http", trigger_config={"path": "/hooks/crm"}, target="Contact")
def flaky_webhook(contact_id: str) -> dict:
    """A server error at the exact time of the first attempt; a retry succeeds (Use Case 1)."""
    with step("Upsert contact", kind="connector", connector="Salesforce") as s:
        s.set_output(_salesforce_upsert(contact_id))
    return {"contact": contact_id}


def _salesforce_upsert(contact_id: str) -> dict:
    """The connector call: the row is locked on the first attempt for each contact, free afterwards."""
    _flaky_attempts[contact_id] = _flaky_attempts.get(contact_id, 0) + 1
    if _flaky_attempts[contact_id] == 1:
        raise ConnectionError("Salesforce: UNABLE_TO_LOCK_ROW")
    return {"contact": contact_id, "upserted": True}


@automation("renew-certificate", trigger="schedule", trigger_config={"cron": "0 4 * * 1"}, target="Domain")
def renew_certificate(domain: str) -> dict:
    """An unconfigured action step: fails on every attempt (Use Case 2)."""
    with step("Request certificate", kind="action", connector="ACME"):
        raise ValueError(f"action step not configured: no account key for {domain}")


@automation("answer-form", trigger="http", trigger_config={"path": "/hooks/form"}, target="Lead")
def answer_form(lead_email: str) -> dict:
    """Answers its HTTP caller through a Response connector, then fails: not retryable (a limitation)."""
    with step("Respond", kind="response", connector="Response") as s:
        s.set_output({"status": 200, "body": {"received": True}})
    with step("Create lead", kind="connector", connector="HubSpot"):
        raise ConnectionError("HubSpot: 429 Too Many Requests")


def _route_ticket(ticket_id: str) -> dict:
    """Routes a support ticket; the queue it needs does not exist yet."""
    with step("Assign queue", kind="action", connector="Zendesk"):
        raise ConnectionError(f"Zendesk: queue 'tier-2' not found for ticket {ticket_id}")


route_ticket = automation("route-ticket", trigger="webhook", trigger_config={"channel": "email"},
                          target="Ticket")(_route_ticket)


def _reconfigure_route_ticket() -> None:
    """The trigger of route-ticket changes after its execution failed: a retry is refused (Use Case 3)."""
    automation("route-ticket", trigger="webhook", trigger_config={"channel": "chat"}, target="Ticket")(_route_ticket)


@automation("export-archive", trigger="schedule", timeout=0.2, target="Archive")
def export_archive(bucket: str = "archive") -> dict:
    with step("Upload", kind="connector", connector="S3"):
        time.sleep(0.35)  # past the 0.2 s budget -> Rejected
    return {"bucket": bucket}


# Executions still open when feed() returns.
@automation("migrate-customers", target="Customer")
def migrate_customers(table: str = "customers") -> dict:
    with step("Copy rows", kind="connector", connector="Postgres"):
        _release.wait()
    return {"table": table}


@agent("approve-refund", request_id="req-refund-1042")
def approve_refund(order: int = 1042) -> dict:
    with step("Draft refund", kind="action") as s:
        s.set_output({"amount": 42.5})
    run = current_execution()
    run.pause("waiting for manager approval")
    _release.wait()
    run.resume()
    return {"order": order, "approved": True}


@automation("throttled-sync", status=sc.Status.QUEUED, event="UPDATE")
def throttled_sync(requested_by: str = "demo") -> dict:
    _release.wait()
    current_execution().set_state(sc.Status.RUNNING)
    return {"requested_by": requested_by}


@automation("webhook-intake", status=sc.Status.PENDING, triggered_by="github")
def webhook_intake(requested_by: str = "demo") -> dict:
    _release.wait()
    current_execution().set_state(sc.Status.RUNNING)
    return {"requested_by": requested_by}


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the execution records the failure
        pass


def _retry_in_process(name: str, attempts: int, fn, *args) -> None:
    """Attempts 2..``attempts`` of ``name``'s last execution, as the retry listener runs them."""
    execution_id, start_ns, root_span_id = _first_attempts.last[name]
    for attempt in range(2, attempts + 1):
        with attempt_of(execution_id, attempt, start_ns, root_span_id):
            _quietly(fn, *args)


def feed(url: str, rounds: int = 1, seed: int = 7, *, retry_secret: str = "") -> int:
    """Send sample executions to the server at ``url``; returns how many were sent.

    With ``retry_secret`` (the viewer's ``EXECLOG_RETRY_SECRET``) this process also runs the SDK's retry
    listener on a free loopback port and announces it, so failed executions can be retried from the viewer."""
    rng = random.Random(seed)
    settings = Settings.from_env()
    if retry_secret:
        settings = replace(settings, retry_secret=retry_secret)
    handle = configure(endpoint=url, service_name="execlog-demo", flush_interval_ms=200, settings=settings,
                       retry_listener=LISTEN if retry_secret else None)
    _telemetry[:] = [handle]
    if id(handle.tracer_provider) not in _watched:
        handle.tracer_provider.add_span_processor(_first_attempts)
        _watched.add(id(handle.tracer_provider))
    feed_no = next(_feeds)
    count = 0
    for r in range(rounds):
        _merge_resource(handle.tracer_provider, {sc.RESOURCE_PROJECT: AGENTS_PROJECT})
        for fn, prompt, tools in [
            (research_agent, "Find three recent papers on retrieval", ["web_search", "summarize"]),
            (support_agent, "Customer asks for a refund on order 1042", ["lookup_order", "issue_refund"]),
            (content_writer, "Write a release note for v2", ["web_search"]),
        ]:
            _quietly(fn, prompt, rng.choice(["gpt-4o-mini", "claude-sonnet-4"]), tools)
            count += 1
        handle.force_flush()  # the agents' spans leave with their project before it changes
        _merge_resource(handle.tracer_provider, {sc.RESOURCE_PROJECT: AUTOMATIONS_PROJECT})
        contact = f"003{feed_no:03d}{r:04d}"
        runs = [
            (sync_inventory, (f"SKU-{r}",)),
            (import_orders, (30 + r,)),
            (publish_entry, (f"blt{r:04d}ab",)),
            (nightly_report, (time.strftime("%Y-%m-%d"),)),
            (export_archive, ()),
            (flaky_webhook, (f"{contact}A",)),  # left Failed: Retry turns it into Success
            (answer_form, (f"lead{r}@example.com",)),
            (route_ticket, (f"T-{4100 + r}",)),
        ]
        for fn, args in runs:
            _quietly(fn, *args)
            count += 1
        # Already retried: attempt 2 of the same execution succeeds (what Retry Execution does).
        _quietly(flaky_webhook, f"{contact}B")
        _retry_in_process("flaky-webhook", 2, flaky_webhook, f"{contact}B")
        # Failed on all 3 attempts: the retry limit is reached.
        _quietly(renew_certificate, f"shop{r}.example.com")
        _retry_in_process("renew-certificate", 3, renew_certificate, f"shop{r}.example.com")
        count += 2
    _reconfigure_route_ticket()
    for fn in (migrate_customers, approve_refund, throttled_sync, webhook_intake):
        threading.Thread(target=fn, daemon=True, name=f"demo-{fn.__name__}").start()
        count += 1
    time.sleep(0.3)  # let them reach their state
    handle.force_flush()
    return count


def people_file(data_dir) -> tuple[object, list[str]]:
    """A users file (EXECLOG_AUTH_FILE format) with one user per role over the demo's projects, with fresh
    passwords; its path and the sign-in lines to print."""
    import secrets
    from pathlib import Path

    from execlog_otel.viewer.auth import hash_password

    users = [("ada", None, "admin: every project, the audit and SQL"),
             ("otto", {AUTOMATIONS_PROJECT: "operator", AGENTS_PROJECT: "viewer"},
              f"operator in {AUTOMATIONS_PROJECT} (retry, download code), viewer in {AGENTS_PROJECT}"),
             ("vera", {AGENTS_PROJECT: "viewer"}, f"viewer in {AGENTS_PROJECT} only")]
    lines, entries = [], []
    for name, roles, what in users:
        password = secrets.token_urlsafe(12)
        entry = f'[users.{name}]\npassword = "{hash_password(password)}"\n'
        entry += "admin = true\n" if roles is None else \
            "projects = { " + ", ".join(f'{p} = "{r}"' for p, r in roles.items()) + " }\n"
        entries.append(entry)
        lines.append(f"{name} / {password}  ({what})")
    path = Path(data_dir).expanduser() / "demo-people.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(entries), encoding="utf-8")
    path.chmod(0o600)
    return path, lines


def stop() -> None:
    """Before the server closes: let accepted retries finish, stop the retry listener, export the last spans
    (nothing is then in flight to a server that is going away)."""
    running = process_listener()
    if running is not None:
        running.listener.wait_idle(5)
        running.close()
    if _telemetry:
        _telemetry.pop().shutdown()


def sleep_forever() -> None:
    time.sleep(3600)
