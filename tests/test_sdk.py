"""The run/step API end to end: SDK -> OTLP/HTTP -> execlog serve (real app, real store) -> /api/executions."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import execlog_otel as ex
from execlog_otel import semconv as sc
from execlog_otel.sdk import registry
from execlog_otel.sdk.executions import fingerprint
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository
from execlog_otel.viewer import presenters
from sdk_support import Api


def test_decorated_automation_partially_executed_with_steps_connectors_and_code(telemetry, api):
    @ex.automation("sync-orders", trigger="http", trigger_config={"path": "/hook", "method": "POST"},
                   request_id="req-77", event="UPDATE", target="Order", target_record_id="o-42",
                   triggered_by="ada@example.com")
    def sync_orders(order_id: int, api_key: str = "sk-live-123") -> dict:
        with ex.step("Fetch order", kind="connector", connector="Shopify") as s:
            s.set_input({"id": order_id})
            s.set_output({"total": 12.5})
        try:
            with ex.step("Post to Slack", kind="connector", connector="Slack"):
                raise ConnectionError("502 Bad Gateway")
        except ConnectionError:
            pass
        ex.step("Notify", kind="action").skip("condition not met")
        return {"synced": order_id}

    assert sync_orders(42) == {"synced": 42}
    telemetry.force_flush()
    item = api.wait_status("sync-orders", "Partially Executed")
    assert item["kind"] == "automation"
    assert (item["steps"], item["failed_steps"], item["skipped_steps"]) == (3, 1, 1)
    assert item["connectors"] == ["Shopify", "Slack"]
    assert (item["request_id"], item["event"], item["target"], item["target_record_id"], item["triggered_by"]) == \
        ("req-77", "UPDATE", "Order", "o-42", "ada@example.com")
    assert item["trigger_fingerprint"] == fingerprint({"method": "POST", "path": "/hook"})
    assert item["retry_target"] == f"{__name__}:test_decorated_automation_partially_executed_with_steps_" \
                                   "connectors_and_code.<locals>.sync_orders"
    assert item["attempt"] == 1
    detail = api.detail(item["id"])
    root_attrs = detail.get("attributes") or {}
    steps = {s["name"]: s for s in detail["steps"]}
    assert steps["Post to Slack"]["status"] == "Failed" and "ConnectionError: 502" in steps["Post to Slack"]["error"]
    assert steps["Notify"]["status"] == "Skipped" and steps["Notify"]["skip_reason"] == "condition not met"
    assert steps["Fetch order"]["output"]["value"] == {"total": 12.5}
    assert steps["Fetch order"]["code"]["function"].endswith("sync_orders")
    # The root: bound arguments as input (api_key masked), return value as output, code of the function.
    spans = Repository(api_store(api)).trace_spans(item["trace_id"])
    root = next(r for r in spans if not r["ParentSpanId"])
    a = root["SpanAttributes"]
    assert json.loads(a[sc.INPUT]) == {"order_id": 42, "api_key": "***"}
    assert json.loads(a[sc.TRIGGER_PAYLOAD]) == {"order_id": 42, "api_key": "***"}
    assert json.loads(a[sc.OUTPUT]) == {"synced": 42}
    assert a[sc.CODE_FUNCTION_NAME].endswith("sync_orders") and "def sync_orders" in a[sc.CODE_SOURCE]
    assert a[sc.MAX_ATTEMPTS] == "3" and a[sc.TRIGGER] == "http"
    assert registry.get("sync-orders").kind == "automation"
    assert registry.get("sync-orders").trigger_fingerprint == item["trigger_fingerprint"]
    del root_attrs


def api_store(api: Api):
    return api.store


def test_async_agent_failure_is_failed_with_validation_message_and_reraised_unchanged(telemetry, api):
    boom = ValueError("the model refused")

    @ex.agent("research-agent")
    async def research(prompt: str) -> str:
        @ex.step(tool="web_search")
        async def web_search(query: str) -> list[str]:
            return [f"result for {query}"]

        await web_search("otel")
        with ex.step("chat", kind="llm") as s:
            s.record_llm(model="gpt-4o-mini", input_tokens=812, output_tokens=96)
        raise boom

    with pytest.raises(ValueError) as caught:
        asyncio.run(research("find papers"))
    assert caught.value is boom
    telemetry.force_flush()
    item = api.wait_status("research-agent", "Failed")
    assert item["kind"] == "agent"
    assert item["status_message"] == "ValueError: the model refused"
    assert item["tools"] == ["web_search"] and item["models"] == ["gpt-4o-mini"]
    assert (item["input_tokens"], item["output_tokens"], item["total_tokens"]) == (812, 96, 908)
    steps = {s["name"]: s for s in api.detail(item["id"])["steps"]}
    assert steps["web_search"]["kind"] == "tool"
    assert steps["web_search"]["input"]["value"] == {"query": "otel"}
    assert steps["web_search"]["output"]["value"] == ["result for otel"]


def test_live_running_then_paused_then_success_visible_before_the_root_ends(telemetry, api):
    proceed = threading.Event()
    paused = threading.Event()
    resume = threading.Event()

    def run():
        with ex.automation("long-import", trigger="schedule") as execution:
            execution.set_input({"batch": 7})
            proceed.wait(30)
            execution.pause("waiting for approval")
            paused.set()
            resume.wait(30)
            execution.resume()
            execution.set_output({"imported": 7})

    worker = threading.Thread(target=run)
    worker.start()
    try:
        item = api.wait_status("long-import", "Running")
        assert item["live"] is True and item["ended_at"] is None
        assert presenters.page(Repository(api_store(api)).page(ListFilter(name="long-import")))["items"][0][
            "status"] == "Running"
        proceed.set()
        paused.wait(10)
        api.wait_status("long-import", "Paused")
    finally:
        proceed.set()
        resume.set()
        worker.join(30)
    telemetry.force_flush()
    item = api.wait_status("long-import", "Success")
    steps = api.detail(item["id"])["steps"]
    assert [s["kind"] for s in steps] == ["pause"]


def test_queued_and_pending_initial_states(telemetry, api):
    with ex.automation("throttled", status="Queued") as queued:
        api.wait_status("throttled", "Queued")
        queued.set_state("Running")
        api.wait_status("throttled", "Running")
    with ex.automation("not-picked-up", status="Pending"):
        api.wait_status("not-picked-up", "Pending")
    telemetry.force_flush()
    api.wait_status("throttled", "Success")
    api.wait_status("not-picked-up", "Success")


def test_sync_timeout_shows_rejected_at_the_deadline_and_ends_rejected(telemetry, api):
    release = threading.Event()

    def run():
        with ex.automation("slow-export", timeout=0.3):
            release.wait(30)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        item = api.wait_status("slow-export", "Rejected")
        assert item["ended_at"] is None  # rejected while the code still runs
        assert "time budget of 0.3 s" in item["status_message"]
    finally:
        release.set()
        worker.join(30)
    telemetry.force_flush()
    item = api.wait_until("slow-export", lambda i: i["ended_at"], "end")
    assert item["status"] == "Rejected"


def test_async_timeout_cancels_and_ends_rejected(telemetry, api):
    @ex.automation("async-export", timeout=0.2)
    async def export() -> None:
        await asyncio.sleep(30)

    with pytest.raises(TimeoutError):
        asyncio.run(export())
    telemetry.force_flush()
    item = api.wait_until("async-export", lambda i: i["ended_at"], "end")
    assert item["status"] == "Rejected"


def test_async_context_manager_timeout_and_failure(telemetry, api):
    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with ex.automation("async-cm-slow", timeout=0.2):
                await asyncio.sleep(30)
        with pytest.raises(KeyError):
            async with ex.agent("async-cm-fail", timeout=30):
                raise KeyError("missing")
        async with ex.agent("async-cm-ok", timeout=30) as run:
            async with ex.step("think", kind="llm") as s:
                s.record_llm(model="m", input_tokens=1, output_tokens=2)
            run.set_output("fine")

    asyncio.run(main())
    telemetry.force_flush()
    assert api.wait_status("async-cm-fail", "Failed")["status_message"] == "KeyError: 'missing'"
    assert api.wait_status("async-cm-ok", "Success")["total_tokens"] == 3
    slow = api.wait_until("async-cm-slow", lambda i: i["ended_at"], "end")
    assert slow["status"] == "Rejected"


def test_finished_fast_within_budget_is_success(telemetry, api):
    @ex.automation("quick", timeout=30)
    def quick() -> int:
        return 1

    assert quick() == 1
    telemetry.force_flush()
    api.wait_status("quick", "Success")


def test_payload_cap_truncation_markers_and_redaction(server, api):
    seen: list[str] = []

    def hook(key, value):
        seen.append(key)
        if isinstance(value, dict) and "email" in value:
            return {**value, "email": "<hidden>"}
        return value

    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, payload_cap_bytes=1024, redact=hook)
    try:
        with ex.automation("big-payload") as run:
            run.set_input({"email": "ada@example.com", "Authorization": "Bearer x", "input_tokens": 5,
                           "nested": [{"client_secret": "s"}]})
            with ex.step("upload") as s:
                s.set_output({"blob": "x" * 5000})
        handle.force_flush()
        item = api.wait_status("big-payload", "Success")
    finally:
        handle.shutdown()
    spans = Repository(api_store(api)).trace_spans(item["trace_id"])
    root = next(r for r in spans if not r["ParentSpanId"])["SpanAttributes"]
    assert json.loads(root[sc.INPUT]) == {"email": "<hidden>", "Authorization": "***", "input_tokens": 5,
                                          "nested": [{"client_secret": "***"}]}
    up = next(r for r in spans if r["SpanName"] == "upload")["SpanAttributes"]
    assert up[sc.OUTPUT + sc.TRUNCATED_SUFFIX] == "true"
    assert int(up[sc.OUTPUT + sc.ORIGINAL_SIZE_SUFFIX]) == len(json.dumps({"blob": "x" * 5000},
                                                                         separators=(",", ":")))
    assert len(up[sc.OUTPUT].encode()) == 1024
    assert sc.INPUT in seen and sc.OUTPUT in seen
    step = api.detail(item["id"])["steps"][0]
    assert step["output"]["truncated"] is True


def test_readable_fallback_for_values_json_cannot_encode(telemetry, api):
    import dataclasses
    import datetime
    import decimal

    @dataclasses.dataclass
    class Order:
        id: int
        when: datetime.date

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque thing>"

    with ex.automation("fallbacks") as run:
        run.set_input({"order": Order(1, datetime.date(2026, 1, 2)), "price": decimal.Decimal("1.50"),
                       "tags": {"b", "a"}, "raw": b"\xff\x00", "obj": Opaque()})
    telemetry.force_flush()
    item = api.wait_status("fallbacks", "Success")
    spans = Repository(api_store(api)).trace_spans(item["trace_id"])
    root = next(r for r in spans if not r["ParentSpanId"])["SpanAttributes"]
    assert json.loads(root[sc.INPUT]) == {"order": {"id": 1, "when": "2026-01-02"}, "price": "1.50",
                                          "tags": ["a", "b"], "raw": {"base64": "/wA="}, "obj": "<Opaque thing>"}


def test_attempt_of_records_retry_attributes_link_and_stays_one_row(telemetry, api):
    @ex.automation("flaky-sync")
    def flaky(n: int) -> int:
        if n < 2:
            raise RuntimeError("upstream down")
        return n

    with pytest.raises(RuntimeError):
        flaky(1)
    telemetry.force_flush()
    first = api.wait_status("flaky-sync", "Failed")
    spans = Repository(api_store(api)).trace_spans(first["trace_id"])
    first_root = next(r for r in spans if not r["ParentSpanId"])
    with ex.attempt_of(first["id"], 2, int(first_root["StartNs"]), first_root["SpanId"]):
        assert flaky(2) == 2
    telemetry.force_flush()
    item = api.wait_status("flaky-sync", "Success")
    assert item["id"] == first["id"] and item["attempt"] == 2 and item["trace_id"] != first["trace_id"]
    assert len(api.list(name="flaky-sync")) == 1
    second = Repository(api_store(api)).trace_spans(item["trace_id"])
    root = next(r for r in second if not r["ParentSpanId"])
    assert root["SpanAttributes"][sc.RETRY_OF] == first["id"]
    assert root["SpanAttributes"][sc.EXECUTION_START] == str(first_root["StartNs"])
    assert list(zip(root["LinkTraceIds"], root["LinkSpanIds"], strict=True)) == [(first["id"], first_root["SpanId"])]
    assert [a["attempt"] for a in api.detail(item["id"])["attempts"]] == [1, 2]


def test_response_step_and_mark_not_retryable_set_root_retryable_false(telemetry, api):
    with ex.automation("answers-caller"):
        with ex.step("Respond 200", kind="response"):
            pass
    with ex.automation("charges-card") as run:
        run.mark_not_retryable("card already charged")
    telemetry.force_flush()
    a = api.wait_status("answers-caller", "Success")
    b = api.wait_status("charges-card", "Success")
    assert a["retryable"] is False and "answered the caller" in a["not_retryable_reason"]
    assert b["retryable"] is False and b["not_retryable_reason"] == "card already charged"


def test_nested_execution_is_a_step_and_context_manager_records_code_location(telemetry, api):
    with ex.agent("outer-agent", input={"prompt": "hi"}) as run:
        with ex.automation("inner-flow"):
            with ex.step("deep", kind="action"):
                pass
        run.set_output({"answer": "ok"})
    telemetry.force_flush()
    item = api.wait_status("outer-agent", "Success")
    assert api.by_name("inner-flow") is None
    steps = api.detail(item["id"])["steps"]
    assert [(s["name"], s["depth"]) for s in steps] == [("inner-flow", 0), ("deep", 1)]
    assert steps[0]["code"]["function"].endswith(
        "test_nested_execution_is_a_step_and_context_manager_records_code_location")
    assert int(steps[0]["code"]["line"]) > 0


def test_fields_set_later_are_searchable(telemetry, api):
    with ex.automation("entry-publish") as run:
        run.set_fields(request_id="rq-9f", target="Entry", target_record_id="blt123", event="PUBLISH",
                       raised_action="notify", executed_action_ids=["a1", "a2"])
    telemetry.force_flush()
    api.wait_status("entry-publish", "Success")
    assert [i["name"] for i in api.list(q="blt123")] == ["entry-publish"]
    assert [i["name"] for i in api.list(q="rq-9f")] == ["entry-publish"]


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="non-empty name"):
        ex.automation("")
    with pytest.raises(ValueError, match="timeout"):
        ex.automation("x", timeout=-1)
    with pytest.raises(ValueError, match="starts"):
        ex.automation("x", status="Success")
    with pytest.raises(ValueError, match="kind"):
        ex.step("x", kind="banana")
    with pytest.raises(TypeError, match="unknown execution field"):
        ex.automation("x", colour="red")
    run = ex.automation("x")
    with pytest.raises(RuntimeError, match="running"):
        run.set_output(1)
    with pytest.raises(TypeError, match="generator function"):
        @ex.step("gen")
        def gen():
            yield 1
    with pytest.raises(TypeError, match="generator function"):
        @ex.automation("agen")
        async def agen():
            yield 1
    for wrong in (-1, 12.5, "12", True, float("inf")):
        with pytest.raises(ValueError, match="token counts"):
            with ex.step("s") as s:
                s.record_llm(model="m", input_tokens=wrong)
    with ex.step("s") as s:  # a provider's float count that is whole (12.0) is that count
        s.record_llm(model="m", input_tokens=12.0, output_tokens=3)
    from execlog_otel.sdk.steps import llm_attributes
    assert llm_attributes("m", 12.0, 3)[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert type(llm_attributes("m", 12.0, 3)[sc.GEN_AI_USAGE_INPUT_TOKENS]) is int


def test_configure_is_idempotent_and_uses_the_existing_provider(server):
    from opentelemetry import trace

    first = ex.configure(endpoint=server.url, flush_interval_ms=100,
                         resource_attributes={sc.RESOURCE_RETRY_URL: "http://127.0.0.1:9/retry"})
    try:
        again = ex.configure(endpoint=server.url)
        assert again is first
        assert first.tracer_provider is trace.get_tracer_provider()
        assert first.tracer_provider.resource.attributes[sc.RESOURCE_RETRY_URL] == "http://127.0.0.1:9/retry"
        assert first.settings.flush_interval_ms <= 1000
        assert first.force_flush() is True
    finally:
        first.shutdown()
    with pytest.raises(ValueError, match="flush_interval_ms"):
        ex.configure(endpoint=server.url, flush_interval_ms=0)


def test_configure_with_another_endpoint_switches_the_destination(server):
    """A later configure() naming another endpoint flushes and replaces the old pipeline (a plain repeat keeps it)."""
    first = ex.configure(endpoint="http://127.0.0.1:9", flush_interval_ms=100)
    try:
        second = ex.configure(endpoint=server.url, flush_interval_ms=100)
        assert second is not first and second.target.endswith(f"{server.url}/v1/traces")
        assert ex.configure() is second
        with ex.automation("switched"):
            pass
        second.force_flush()
        assert Api(server.url).wait_status("switched", "Success")
    finally:
        ex.configure(endpoint=server.url).shutdown()


def test_configure_writes_directly_to_clickhouse(store, chdb_url):
    from execlog_otel.ingest.exporter import ClickHouseSpanExporter

    handle = ex.configure(exporter=ClickHouseSpanExporter(store=store), flush_interval_ms=100)
    try:
        with ex.automation("direct-write"):
            pass
        handle.force_flush()
    finally:
        handle.shutdown()
    items = presenters.page(Repository(store).page(ListFilter(name="direct-write")))["items"]
    assert [(i["kind"], i["status"]) for i in items] == [("automation", "Success")]


def test_configure_clickhouse_url_selects_the_clickhouse_exporter(store, chdb_url):
    from execlog_otel.ingest.exporter import ClickHouseSpanExporter

    handle = ex.configure(clickhouse_url=chdb_url, database=store.database, flush_interval_ms=100)
    try:
        assert isinstance(handle.exporter, ClickHouseSpanExporter)
        with ex.agent("via-url"):
            pass
        handle.force_flush()
    finally:
        handle.shutdown()
    items = presenters.page(Repository(store).page(ListFilter(name="via-url")))["items"]
    assert [(i["kind"], i["status"]) for i in items] == [("agent", "Success")]


def test_configure_adds_to_an_application_tracer_provider(server, api):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    app_provider = TracerProvider()
    app_spans = InMemorySpanExporter()
    app_provider.add_span_processor(SimpleSpanProcessor(app_spans))
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, tracer_provider=app_provider)
    try:
        assert handle.tracer_provider is app_provider and not handle.owns_provider
        with ex.automation("shared-provider"):
            with app_provider.get_tracer("app").start_as_current_span("app work"):
                pass
        handle.force_flush()
        item = api.wait_status("shared-provider", "Success")
    finally:
        handle.shutdown()
    # The application's own exporter still gets every span, execlog's included; its span is a step.
    assert {"shared-provider", "app work", sc.STATE_SPAN_NAME} <= {s.name for s in app_spans.get_finished_spans()}
    assert [s["name"] for s in api.detail(item["id"])["steps"]] == ["app work"]
