"""Download Code for LangGraph graphs run under the LangChain instrumentation (no execlog code around
them): the file re-executes the recorded tool functions with their logged input, answers the model's
replies from the log, and runs offline (``python3 -I``) without LangChain or LangGraph."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from tests.replay_support import attachment_name, fetch, run_replay

import execlog_otel as ex
from execlog_otel.instrumentation.langchain import LangChainInstrumentor
from sdk_support import Api

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "agent_langgraph" / "agent.py"
_spec = importlib.util.spec_from_file_location("execlog_replay_example_agent", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

RATES = {"USD": 1.08, "CHF": 0.94}


def rounded(value: float) -> float:
    return round(value, 2)


@tool
def quote(amount: float, to: str) -> dict:
    """Quote an amount of euros in another currency."""
    if to not in RATES:
        raise ValueError(f"no rate for {to}")
    return {"amount": rounded(amount * RATES[to]), "currency": to}


@tool
async def slow_weather(city: str) -> str:
    """The weather, asynchronously."""
    await asyncio.sleep(0)
    return f"{city}: fog"


@tool
def banner(text: str) -> str:
    """A banner made by a library object (not in the replay)."""
    return AIMessage(content=text.upper()).pretty_repr()


def _short(text: str) -> str:  # the replay runtime has a function of this name
    return text[:3]


@tool
def abbreviate(text: str) -> str:
    """The first letters."""
    return _short(text)


def build(replies: list[AIMessage], name: str):
    model = example.ScriptedChatModel(messages=iter(replies))
    tools = [quote, example.get_weather, slow_weather, banner, abbreviate]

    def call_model(state: MessagesState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    return graph.compile(name=name)


def calls(*pairs: tuple[str, dict]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": f"id_{i}_{n}"}
                                             for i, (n, a) in enumerate(pairs)])


@pytest.fixture
def telemetry(server):
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="replay-langgraph")
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument()
    yield handle
    instrumentor.uninstrument()
    handle.shutdown()


def _replay(server, telemetry, name: str, status: str, tmp_path):
    telemetry.force_flush()
    item = Api(server.url).wait_status(name, status)
    body, headers = fetch(f"{server.url}/executions/{item['id']}/code")
    path = tmp_path / attachment_name(headers)
    path.write_bytes(body)
    logged = Api(server.url).detail(item["id"])
    return logged, run_replay(path, tmp_path), body.decode("utf-8")


def test_parallel_async_and_dict_tools_replay(telemetry, server, tmp_path):
    agent = build([calls(("quote", {"amount": 10, "to": "USD"}), ("get_weather", {"city": "Oslo"})),
                   calls(("slow_weather", {"city": "Bergen"})),
                   AIMessage(content="Done.")], "parallel-agent")
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("Quote and weather")]}))
    logged, run, text = _replay(server, telemetry, "parallel-agent", "Success", tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == logged["output"]["value"]
    # Re-executed: the helper and constant the tool needs are in the file.
    assert "def rounded(value: float) -> float:" in text and "RATES = {" in text
    for shown in ("quote(amount=10.0, to='USD')", "get_weather(city='Oslo')", "slow_weather(city='Bergen')"):
        assert f"re-executed {shown}" in run.stderr, run.stderr
    tool_messages = [m for m in logged["output"]["value"]["messages"] if m["role"] == "tool"]
    assert json.loads(next(m["content"] for m in tool_messages if m["name"] == "quote")) == \
        {"amount": 10.8, "currency": "USD"}
    # A changed constant changes the re-executed tool: exit 1, with the tool's diff.
    edited = tmp_path / "edited.py"
    edited.write_text(text.replace("RATES = {'USD': 1.08", "RATES = {'USD': 2.0"), encoding="utf-8")
    assert edited.read_text(encoding="utf-8") != text
    run = run_replay(edited, tmp_path)
    assert run.returncode == 1, run.stderr
    assert "--- logged tool 'quote'" in run.stderr and '"amount": 20.0' in run.stderr


def test_a_failing_tool_replays_its_logged_error(telemetry, server, tmp_path):
    agent = build([calls(("quote", {"amount": 5, "to": "XYZ"}))], "failing-tool-agent")
    with pytest.raises(ValueError, match="no rate for XYZ"):
        agent.invoke({"messages": [HumanMessage("5 EUR in XYZ")]})
    logged, run, text = _replay(server, telemetry, "failing-tool-agent", "Failed", tmp_path)
    assert run.returncode == 0, run.stderr
    assert "re-executed quote(amount=5.0, to='XYZ'): raised ValueError: no rate for XYZ  (same as logged)" \
        in run.stderr
    assert "OK: the replay reproduces the logged error." in run.stderr
    # The tool no longer raises: it differs from the log.
    edited = tmp_path / "edited.py"
    edited.write_text(text.replace("RATES = {'USD': 1.08", "RATES = {'XYZ': 1.0, 'USD': 1.08"),
                      encoding="utf-8")
    run = run_replay(edited, tmp_path)
    assert run.returncode == 1, run.stderr
    assert "--- logged tool 'quote'" in run.stderr


def test_a_tool_needing_a_library_is_answered_from_the_log(telemetry, server, tmp_path):
    agent = build([calls(("banner", {"text": "hi"}), ("get_weather", {"city": "Paris"}),
                         ("abbreviate", {"text": "Paris"})), AIMessage(content="ok")], "library-tool-agent")
    agent.invoke({"messages": [HumanMessage("banner")]})
    logged, run, text = _replay(server, telemetry, "library-tool-agent", "Success", tmp_path)
    assert run.returncode == 0, run.stderr
    # A helper whose name the file's runtime uses is not included: that tool is answered from the log.
    assert "_short would rebind a name this file needs" in text and "def abbreviate" not in text
    assert "note: tool 'banner' cannot be re-executed here" in run.stderr and "answered from the log" in run.stderr
    assert "re-executed get_weather(city='Paris')" in run.stderr
    assert json.loads(run.stdout) == logged["output"]["value"]
