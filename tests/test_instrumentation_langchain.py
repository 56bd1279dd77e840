"""LangChain / LangGraph instrumentation in process: real graphs, langchain-core's fake chat model, no network."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

import execlog_otel as ex
from execlog_otel.instrumentation.langchain import LangChainInstrumentor, simplify
from execlog_otel.sdk import registry
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository
from execlog_otel.viewer import presenters
from sdk_support import Api

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "agent_langgraph" / "agent.py"
_spec = importlib.util.spec_from_file_location("execlog_example_agent", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


@pytest.fixture
def telemetry(server):
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="langchain-tests")
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    yield handle
    instrumentor.uninstrument()
    handle.shutdown()


def test_stream_is_one_agent_execution_with_node_llm_and_tool_steps(telemetry, server):
    api = Api(server.url)
    agent = example.build_agent(example.script("Oslo", "NOK"))
    chunks = list(agent.stream({"messages": [HumanMessage("Oslo weather; 100 EUR in NOK?")]},
                               config={"run_name": "stream-agent"}))
    assert chunks
    telemetry.force_flush()
    item = api.wait_status("stream-agent", "Success")
    assert item["kind"] == "agent" and item["models"] == ["gpt-4o-mini"]
    assert item["tools"] == ["convert_currency", "get_weather"]
    assert item["input_tokens"] == 120 + 160 + 210
    steps = api.detail(item["id"])["steps"]
    nodes = [s for s in steps if s["kind"] == "node" and s["span_name"] in ("agent", "tools")]
    assert [s["span_name"] for s in sorted(nodes, key=lambda s: s["started_at"])] == \
        ["agent", "tools", "agent", "tools", "agent"]
    assert all(s["status"] == "Success" and s["input"] is not None for s in nodes)
    tools = {s["tool"]: s for s in steps if s["kind"] == "tool"}
    assert set(tools) == {"get_weather", "convert_currency"}
    # The execution's code location is the application code that ran the graph.
    root = next(r for r in Repository(server.store).trace_spans(item["trace_id"]) if not r["ParentSpanId"])
    assert root["SpanAttributes"]["code.function.name"].endswith(
        "test_stream_is_one_agent_execution_with_node_llm_and_tool_steps")


def test_ainvoke_failure_is_failed_and_reraised(telemetry, server):
    api = Api(server.url)
    agent = example.build_agent([AIMessage(content="", tool_calls=[
        {"name": "convert_currency", "args": {"amount": 5, "to": "XYZ"}, "id": "c1"}])])

    with pytest.raises(Exception) as caught:
        asyncio.run(agent.ainvoke({"messages": [HumanMessage("5 EUR in XYZ")]}, config={"run_name": "async-agent"}))
    telemetry.force_flush()
    item = api.wait_status("async-agent", "Failed")
    assert item["status_message"].startswith(type(caught.value).__name__)
    assert item["tools"] == ["convert_currency"]


def test_graph_inside_an_automation_is_a_step_of_it(telemetry, server, store):
    api = Api(server.url)

    @ex.automation("triage-ticket", trigger="webhook")
    def triage(text: str) -> str:
        agent = example.build_agent(example.script("Paris", "USD"))
        return agent.invoke({"messages": [HumanMessage(text)]})["messages"][-1].content

    assert "Paris" in triage("where is my parcel")
    telemetry.force_flush()
    item = api.wait_status("triage-ticket", "Success")
    assert api.by_name("travel-agent") is None  # not a second execution
    assert item["models"] == ["gpt-4o-mini"] and item["total_tokens"] == sum(
        (120, 18, 160, 22, 210, 30))
    steps = api.detail(item["id"])["steps"]
    assert steps[0]["name"] == "travel-agent" and steps[0]["kind"] == "node" and steps[0]["depth"] == 0
    assert max(s["depth"] for s in steps) >= 2


def test_a_graph_is_re_runnable_by_name_from_its_recorded_input(telemetry, server):
    """The retry listener calls the registered entry with the recorded input, inside attempt_of()."""
    api = Api(server.url)
    agent = example.build_agent(example.script("Paris", "USD") * 2)
    agent.invoke({"messages": [HumanMessage("Weather in Paris?")]}, config={"run_name": "rerunnable-agent"})
    telemetry.force_flush()
    first = api.wait_status("rerunnable-agent", "Success")
    root = next(r for r in Repository(server.store).trace_spans(first["trace_id"]) if not r["ParentSpanId"])
    recorded_input = json.loads(root["SpanAttributes"]["execlog.input"])
    with ex.attempt_of(first["id"], 2, root["StartNs"], root["SpanId"]):
        output = registry.get("rerunnable-agent").fn(**recorded_input)
    assert output["messages"][0] == {"role": "human", "content": "Weather in Paris?"}
    telemetry.force_flush()
    item = api.wait_until("rerunnable-agent", lambda i: i["attempt"] == 2, "attempt 2")
    assert item["id"] == first["id"] and item["status"] == "Success" and item["tools"]


def test_simplify_messages():
    msg = AIMessage(content="hi", tool_calls=[{"name": "t", "args": {"a": 1}, "id": "x"}])
    assert simplify({"messages": [HumanMessage("yo"), msg]}) == {"messages": [
        {"role": "human", "content": "yo"},
        {"role": "ai", "content": "hi", "tool_calls": [{"name": "t", "args": {"a": 1}, "id": "x"}]}]}


def test_uninstrument_stops_recording(telemetry, server, store):
    LangChainInstrumentor().uninstrument()
    try:
        agent = example.build_agent(example.script("Paris", "USD"))
        agent.invoke({"messages": [HumanMessage("x")]}, config={"run_name": "unrecorded-agent"})
        with ex.automation("control-run"):  # exported after the graph's spans would have been
            pass
        telemetry.force_flush()
        Api(server.url).wait_status("control-run", "Success")
        assert presenters.page(Repository(store).page(ListFilter(name="unrecorded-agent")))["items"] == []
    finally:
        LangChainInstrumentor().instrument()


def test_official_instrumentation_alone_is_understood_by_the_store(store):
    """Spans of opentelemetry-instrumentation-genai-langchain without execlog's layer (e.g. through a Collector):
    the invoke_workflow / invoke_agent root is the execution, tokens, models and tools roll up from its children."""
    from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor as Official
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from execlog_otel.ingest.exporter import ClickHouseSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ClickHouseSpanExporter(store=store)))
    official = Official()
    official.instrument(skip_dep_check=True, tracer_provider=provider)
    try:
        graph = example.build_agent(example.script("Paris", "USD"))
        graph.name = "planner"  # no "agent" in the name: the official instrumentation records a workflow
        graph.invoke({"messages": [HumanMessage("Weather in Paris?")]})
        provider.force_flush()
    finally:
        official.uninstrument()
        provider.shutdown()
    items = presenters.page(Repository(store).page(ListFilter(name="planner")))["items"]
    assert len(items) == 1
    item = items[0]
    assert item["kind"] == "automation" and item["status"] == "Success"
    assert item["models"] == ["gpt-4o-mini"] and item["tools"] == ["convert_currency", "get_weather"]
    assert (item["input_tokens"], item["output_tokens"]) == (120 + 160 + 210, 18 + 22 + 30)
