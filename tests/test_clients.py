"""What real third-party clients send (recorded OTLP bodies, tests/fixtures/otlp/) becomes executions whose
listing and detail fields are filled from each client's own attributes, events and log records."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from execlog_otel import pricing
from otlp_fixtures_support import send
from sdk_support import wait_for

RECORDER = Path(__file__).resolve().parent.parent / "scripts" / "record_otlp_fixtures.py"
QUESTION = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris, 21 C."


def listed(url: str, **params) -> list[dict]:
    r = requests.get(f"{url}/api/executions", params={"kind": "all", **params}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def detail(url: str, execution_id: str) -> dict:
    r = requests.get(f"{url}/api/executions/{execution_id}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def text(payload: dict | None) -> str:
    """A payload as text, whatever JSON shape the client gave it."""
    if payload is None:
        return ""
    value = payload["value"]
    return value if isinstance(value, str) else json.dumps(value)


def received(url: str, client: str) -> tuple[dict, dict]:
    """Send ``client``'s recorded requests; the one execution listed and its detail."""
    send(url, client)
    items = wait_for(lambda: listed(url), f"{client}'s execution in the listing")
    assert len(items) == 1, [(i["name"], i["kind"]) for i in items]
    item = items[0]
    # The rollups of a trace may land a moment after its execution row: wait for the steps.
    item = wait_for(lambda: next((i for i in listed(url) if i["steps"]), None), f"{client}'s steps")
    return item, detail(url, item["id"])


def assert_priced(item: dict, shown: dict) -> None:
    """The two gpt-4o-mini calls (20 input and 10 output tokens each) cost what the shipped prices say, in the
    listing, the detail and each model call: the spans are priced as they arrive, whatever client wrote them."""
    price = next(p for p in pricing.shipped() if p.model == "gpt-4o-mini")
    call = (20 * price.input + 10 * price.output) / 1_000_000
    assert item["cost_usd"] == pytest.approx(2 * call) and shown["cost_usd"] == pytest.approx(2 * call)
    assert [s["cost_usd"] for s in shown["steps"] if s["kind"] == "llm"] == pytest.approx([call, call])


def assert_agent_turn(item: dict, shown: dict, steps: int = 3) -> None:
    """One agent turn of the recording scenario: the agent asks the model, runs get_weather, asks again."""
    assert (item["kind"], item["name"]) == ("agent", "weather_agent")
    assert item["steps"] == steps and item["failed_steps"] == 0
    assert item["models"] == ["gpt-4o-mini"] and item["tools"] == ["get_weather"]
    assert item["connectors"] == []  # the model's host is not a connector
    assert (item["input_tokens"], item["output_tokens"], item["total_tokens"]) == (40, 20, 60)
    assert_priced(item, shown)
    assert QUESTION in text(shown["input"]) and ANSWER in text(shown["output"])
    kinds = [s["kind"] for s in shown["steps"]]
    assert kinds.count("llm") == 2 and kinds.count("tool") == 1, kinds
    first, second = (s for s in shown["steps"] if s["kind"] == "llm")
    assert first["model"] == "gpt-4o-mini" and first["input_tokens"] == 20 and first["output_tokens"] == 10
    assert QUESTION in text(first["input"]) and "get_weather" in text(first["output"])
    assert "sunny, 21 C" in text(second["input"]) and ANSWER in text(second["output"])
    tool = next(s for s in shown["steps"] if s["kind"] == "tool")
    assert tool["tool"] == "get_weather" and tool["connector"] == ""
    assert "Paris" in text(tool["input"]) and "sunny, 21 C" in text(tool["output"])


def test_current_genai_conventions(server):
    """opentelemetry-instrumentation-genai-openai and opentelemetry-util-genai's agent and tool invocations:
    gen_ai.input.messages / gen_ai.output.messages, gen_ai.tool.call.arguments / .result."""
    item, shown = received(server.url, "genai")
    assert_agent_turn(item, shown)


@pytest.mark.parametrize("client", ["genai", "openinference"])
def test_download_code_and_quick_view_read_the_same_input_and_output(server, client):
    item, shown = received(server.url, client)
    quick = requests.get(f"{server.url}/api/executions/{item['id']}", params={"steps": "false"}, timeout=30).json()
    assert text(quick["input"]) == text(shown["input"]) and text(quick["output"]) == text(shown["output"])


def test_openinference(server):
    """OpenInference: openinference.span.kind, input.value / output.value, llm.token_count.*, tool.name."""
    item, shown = received(server.url, "openinference")
    assert_agent_turn(item, shown)


# --- live: the client itself, in a process of its own, against a fake OpenAI server and execlog serve ---

def _recorder():
    spec = importlib.util.spec_from_file_location("record_otlp_fixtures", RECORDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("client", ["openinference", "genai"])
def test_live_client(server, client):
    recorder = _recorder()
    model = recorder.serve(recorder.FakeOpenAI)
    try:
        subprocess.run([sys.executable, str(RECORDER), "--scenario", client, "--otlp", server.url,
                        "--openai", f"http://127.0.0.1:{model.server_port}/v1"],
                       check=True, timeout=120, env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": server.url})
    finally:
        model.shutdown()
    items = wait_for(lambda: [i for i in listed(server.url) if i["steps"] >= 3], f"{client}'s live execution")
    assert_agent_turn(items[0], detail(server.url, items[0]["id"]))


def test_openllmetry(server):
    """traceloop-sdk 0.62 (recorded beside OpenTelemetry 1.45.1): traceloop.span.kind, traceloop.entity.*,
    gen_ai.agent.name; its OpenAI instrumentation writes the current GenAI messages."""
    item, shown = received(server.url, "traceloop")
    assert_agent_turn(item, shown)


def test_openlit(server):
    """OpenLIT 1.45 (recorded beside OpenTelemetry 1.45.1): current GenAI names on model calls, @openlit.trace
    spans with function.args and gen_ai.output.messages, httpx spans under each model call, and a lone
    requests span outside any trace of the agent (as its own background fetches are)."""
    item, shown = received(server.url, "openlit")
    assert (item["kind"], item["name"]) == ("agent", "weather_agent")
    # The two HTTP requests carrying the model calls are part of them: 3 steps, no connector.
    assert item["steps"] == 3 and item["connectors"] == [] and item["models"] == ["gpt-4o-mini"]
    assert (item["input_tokens"], item["output_tokens"]) == (40, 20)
    assert_priced(item, shown)
    assert QUESTION in text(shown["input"]) and ANSWER in text(shown["output"])
    assert [s["kind"] for s in shown["steps"]] == ["llm", "step", "llm"]  # @openlit.trace says no more
    first, tool, second = shown["steps"]
    assert QUESTION in text(first["input"]) and "You answer weather questions." in text(first["input"])
    assert "get_weather" in text(first["output"]) and ANSWER in text(second["output"])
    assert tool["name"] == "get_weather" and "Paris" in text(tool["input"]) and text(tool["output"]) == "sunny, 21 C"


def test_genai_content_in_log_records_fills_input_and_output(server):
    """The current GenAI instrumentation with content in log records only (EVENT_ONLY): each model call's
    gen_ai.client.inference.operation.details record gives its step input and output, as the span forms do."""
    item, shown = received(server.url, "genai_events")
    first, second = (s for s in shown["steps"] if s["kind"] == "llm")
    assert not any(k.startswith("gen_ai.input") for k in first["attributes"])  # nothing on the span
    assert QUESTION in text(first["input"]) and "get_weather" in text(first["output"])
    assert "sunny, 21 C" in text(second["input"]) and ANSWER in text(second["output"])
    assert first["logs"] and first["logs"][0]["event_name"] == "gen_ai.client.inference.operation.details"


def test_older_genai_forms(server):
    """Forms of the GenAI conventions before gen_ai.input/output.messages, as the real SDK exports them:
    indexed gen_ai.prompt.N.* / gen_ai.completion.N.* attributes, gen_ai.content.prompt / .completion span
    events, per-message log records (gen_ai.user.message, gen_ai.choice); a span naming only
    gen_ai.tool.name is a tool step."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces")))
    logs = LoggerProvider()
    logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server.url}/v1/logs")))
    tracer, logger = provider.get_tracer("older-genai"), logs.get_logger("older-genai")
    model = {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4"}
    with tracer.start_as_current_span("legacy", attributes={"gen_ai.agent.name": "legacy_agent"}):
        with tracer.start_as_current_span("indexed", attributes={
                **model, "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Be brief.",
                "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "indexed question",
                "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "indexed answer",
                "gen_ai.usage.prompt_tokens": 5, "gen_ai.usage.completion_tokens": 2}):
            pass
        with tracer.start_as_current_span("evented", attributes=model) as span:
            span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "evented question"})
            span.add_event("gen_ai.content.completion", {"gen_ai.completion": "evented answer"})
        with tracer.start_as_current_span("logged", attributes=model):
            logger.emit(event_name="gen_ai.user.message", body={"content": "logged question"})
            logger.emit(event_name="gen_ai.choice", body={"index": 0, "message": {"content": "logged answer"}})
        with tracer.start_as_current_span("lookup", attributes={"gen_ai.tool.name": "lookup"}):
            pass
    provider.shutdown()
    logs.shutdown()
    items = wait_for(lambda: [i for i in listed(server.url) if i["steps"] == 4], "the execution and its steps")
    item = items[0]
    assert (item["kind"], item["name"], item["tools"]) == ("agent", "legacy_agent", ["lookup"])
    assert (item["input_tokens"], item["output_tokens"]) == (5, 2)
    steps = {s["name"]: s for s in detail(server.url, item["id"])["steps"]}
    assert [steps[n]["kind"] for n in ("indexed", "evented", "logged", "lookup")] == ["llm", "llm", "llm", "tool"]
    assert steps["indexed"]["input"]["value"] == [{"role": "system", "content": "Be brief."},
                                                  {"role": "user", "content": "indexed question"}]
    assert steps["indexed"]["output"]["value"] == [{"role": "assistant", "content": "indexed answer"}]
    assert (text(steps["evented"]["input"]), text(steps["evented"]["output"])) == ("evented question",
                                                                                   "evented answer")
    assert "logged question" in text(steps["logged"]["input"]) and "logged answer" in text(steps["logged"]["output"])


def test_upgrade_derives_executions_recorded_before_again(ch_client):
    """Migration 020 derives the derived tables again from otel_traces: spans that arrived before it (here
    while the views were detached, so nothing was derived from them) are listed by the new rules."""
    import uuid

    from execlog_otel.ingest import otlp
    from execlog_otel.store.filters import ListFilter
    from execlog_otel.store.repository import Repository
    from execlog_otel.store.store import Store
    from otlp_fixtures_support import shifted

    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    try:
        store.migrate(up_to=19)
        views = ("execlog_executions_mv", "execlog_attempts_mv", "execlog_trace_rollups_mv")
        for view in views:
            ch_client.command(f"DETACH TABLE {store.table(view)}")
        for signal, body in shifted("openlit"):
            if signal == "traces":
                spans = otlp.to_columns(otlp.decode_request(body, "application/x-protobuf"))
                store.insert_span_columns(spans.columns)
        for view in views:
            ch_client.command(f"ATTACH TABLE {store.table(view)}")
        assert not Repository(store).page(ListFilter()).items
        assert "020_client_dialects" in store.migrate()
        (after,) = Repository(store).page(ListFilter()).items
        assert (after.kind, after.name, after.rollup.steps) == ("agent", "weather_agent", 3)
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


@pytest.mark.parametrize("client", ["openlit", "traceloop"])
def test_clients_metrics_land_in_the_collectors_tables(server, store, client):
    """The token-usage and duration histograms OpenLIT and traceloop-sdk export (the Grafana panel's data)."""
    send(server.url, client)

    def count() -> int:
        return store.pool.query(
            f"SELECT count() FROM {store.table('otel_metrics_histogram')} WHERE MetricName IN "
            "('gen_ai.client.token.usage', 'gen_ai.client.operation.duration')").result_rows[0][0]

    assert wait_for(count, f"{client}'s GenAI histograms") >= 2


def test_http_requests_under_a_model_call_belong_to_it(server, store):
    """Stable HTTP conventions (http.request.method, server.address), as HTTP client instrumentations write
    them: a request under a model call is neither a step nor a connector, even when it failed (a retried
    429); a request the automation itself makes is both."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind, Status, StatusCode

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces")))
    tracer = provider.get_tracer("transport")

    def request(host: str, failed: bool = False) -> None:
        with tracer.start_as_current_span("POST", kind=SpanKind.CLIENT, attributes={
                "http.request.method": "POST", "server.address": host, "url.full": f"https://{host}/x"}) as span:
            if failed:
                span.set_status(Status(StatusCode.ERROR))

    with tracer.start_as_current_span("answer", attributes={"gen_ai.operation.name": "invoke_agent",
                                                            "gen_ai.agent.name": "answerer"}):
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes={
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                "server.address": "api.openai.example"}):
            request("api.openai.example", failed=True)
            request("api.openai.example")
        request("hooks.example")
    provider.shutdown()
    item = wait_for(lambda: next((i for i in listed(server.url) if i["steps"]), None), "the execution")
    assert (item["steps"], item["failed_steps"], item["connectors"]) == (2, 0, ["hooks.example"])
    shown = detail(server.url, item["id"])
    assert [(s["kind"], s["connector"]) for s in shown["steps"]] == [("llm", ""), ("step", "hooks.example")]
    quick = requests.get(f"{server.url}/api/executions/{item['id']}", params={"steps": "false"}, timeout=30).json()
    assert quick["status"] == "Success" and quick["problem_steps"] == []
    # Insights' step rows (execlog_steps) follow the same rule: the model call and the automation's own request.
    steps = store.pool.query(f"SELECT StepName, Failed FROM {store.table('execlog_steps')} "
                             "WHERE TraceId = {t:String} ORDER BY StepName",
                             parameters={"t": item["id"]}).result_rows
    assert [tuple(r) for r in steps] == [("POST", 0), ("chat gpt-4o", 0)]


@pytest.mark.parametrize("client", ["openinference", "traceloop", "openlit", "genai"])
def test_in_payload_finds_what_each_client_recorded_as_input_or_output(server, client):
    """A search with in:payload finds the turn by text that only its payloads hold (the tool's answer), in
    whatever attributes or events the client wrote it."""
    item, _ = received(server.url, client)
    assert [i["id"] for i in listed(server.url, q="SUNNY, 21 in:payload")] == [item["id"]]
    assert listed(server.url, q="sunny, 21") == []
    assert listed(server.url, q="snowy in:payload") == []
