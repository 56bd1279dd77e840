"""A LangGraph agent with a (fake) chat model and two tools.

No execlog code: run it under auto-instrumentation and every graph invocation
is an agent execution, its nodes, LLM calls (model, tokens) and tool calls steps:

    execlog serve &                      # the local store and viewer, port 4318
    OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python examples/agent_langgraph/agent.py

The chat model is langchain-core's GenericFakeChatModel with scripted replies
(tool calls and token usage included), so nothing leaves the machine.
"""

from __future__ import annotations

import sys

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

MODEL = "gpt-4o-mini"


class ScriptedChatModel(GenericFakeChatModel):
    """A fake chat model that names its model (so the call is recorded with it) and accepts tools."""

    model: str = MODEL

    def bind_tools(self, tools, **kwargs):  # the replies are scripted: tools change nothing
        return self


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return {"Paris": "sunny, 21 C", "Oslo": "rain, 9 C"}.get(city, "unknown")


@tool
def convert_currency(amount: float, to: str) -> str:
    """Convert an amount of euros to another currency."""
    rates = {"USD": 1.08, "NOK": 11.6}
    if to not in rates:
        raise ValueError(f"no rate for {to}")
    return f"{amount * rates[to]:.2f} {to}"


def usage(inp: int, out: int) -> dict:
    return {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}


def script(city: str, to: str) -> list[AIMessage]:
    return [
        AIMessage(content="", tool_calls=[{"name": "get_weather", "args": {"city": city}, "id": "call_1"}],
                  usage_metadata=usage(120, 18)),
        AIMessage(content="", tool_calls=[{"name": "convert_currency", "args": {"amount": 100, "to": to},
                                           "id": "call_2"}], usage_metadata=usage(160, 22)),
        AIMessage(content=f"In {city} it is nice; 100 EUR is some {to}.", usage_metadata=usage(210, 30)),
    ]


def build_agent(replies: list[AIMessage]):
    model = ScriptedChatModel(messages=iter(replies)).bind_tools([get_weather, convert_currency])

    def call_model(state: MessagesState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", call_model)
    graph.add_node("tools", ToolNode([get_weather, convert_currency]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(name="travel-agent")


def main() -> int:
    agent = build_agent(script("Paris", "USD"))
    result = agent.invoke({"messages": [HumanMessage("Weather in Paris, and 100 EUR in USD?")]})
    print(result["messages"][-1].content)
    failing = build_agent([AIMessage(content="", tool_calls=[
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_9"}], usage_metadata=usage(90, 12))])
    try:  # the script runs out of replies: the model raises, the execution is Failed
        failing.invoke({"messages": [HumanMessage("Weather in Oslo?")]})
    except Exception as exc:  # noqa: BLE001 - shown, not hidden
        print(f"second run failed: {type(exc).__name__}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
