"""Replay files for LangGraph / LangChain graph executions recorded by auto-instrumentation.

Such an execution is a library call (``graph.invoke(...)``): the graph's code is LangGraph's and
the function around the call is not the execution. What the log holds of the user's code is the
tools: their function's source (``code.*``, ``execlog.code.source``/``.context``), and each call's
input and result. So the file rebuilds the logged run from the graph's input: the nodes in the
logged order, each node's state update taken from the log (the model's replies are answered from
the log), except that the tool calls are re-executed with their logged input and their results go
into the tool messages. The rebuilt final state is compared with the logged output; a tool whose
re-executed result differs from the logged one makes the replay differ (exit 1, with a diff).

Standard library only: neither LangChain nor LangGraph is needed to run the file.
"""

from __future__ import annotations

import ast
import builtins
import functools
from dataclasses import dataclass, field
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.replay.generate import header_lines, literal, runtime_text
from execlog_otel.replay.logged import expected_outcome, payload_parts, recorded_context, step_call
from execlog_otel.replay.plan import RESERVED_NAMES, compare_note, context_items, context_lines
from execlog_otel.replay.source import Definition, SourceRejected, definition, inert

_FILE_NAMES = frozenset({"LOGGED_TOOL_CALLS", "LOGGED_NODES", "TOOL_FUNCTIONS", "run_graph"})


@functools.lru_cache(maxsize=1)
def _taken_names() -> frozenset[str]:
    """Names the file itself defines (the runtime's, the data's): recorded code must not rebind them."""
    tree = ast.parse(runtime_text())
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    names |= {node.name for node in tree.body if isinstance(node, definitions)}
    names |= {(a.asname or a.name).split(".")[0] for node in tree.body
              if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    return frozenset(names | RESERVED_NAMES | _FILE_NAMES)


GRAPH_METHOD = "langgraph.method"  # set on the execution's root by the LangChain instrumentation
_NODE = "langgraph.node"


@dataclass
class GraphPlan:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    code_blocks: list[str] = field(default_factory=list)
    functions: dict[str, str] = field(default_factory=dict)  # function name in the file -> tool name
    notes: list[str] = field(default_factory=list)
    compare_note: str = ""


def _top_level_nodes(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The graph's node steps, without the nodes of subgraphs (those nest inside a node)."""
    nodes = [s for s in steps if s.get("kind") == sc.StepKind.NODE and (s.get("attributes") or {}).get(_NODE)]
    ids = {s.get("span_id") for s in nodes}
    return sorted((s for s in nodes if s.get("parent_span_id") not in ids), key=lambda s: s.get("offset_ms") or 0)


def _within(step: dict[str, Any], node: dict[str, Any]) -> bool:
    start = float(node.get("offset_ms") or 0)
    end = start + float(node.get("duration_ms") or 0)
    return start <= float(step.get("offset_ms") or 0) <= end


def _owner(tool: dict[str, Any], nodes: list[dict[str, Any]]) -> int | None:
    """The index of the node a tool call ran in: the node whose time span holds the call (of the node the
    call names, when it does), the latest started when parallel nodes overlap."""
    holding = [i for i, node in enumerate(nodes) if _within(tool, node)]
    named = (tool.get("attributes") or {}).get(_NODE)
    same = [i for i in holding if (nodes[i].get("attributes") or {}).get(_NODE) == named]
    chosen = same or holding
    return chosen[-1] if chosen else None


def _tool_code(step: dict[str, Any], p: GraphPlan, sources: dict[str, str], helpers: set[str]) -> str:
    """The file's name for the tool's recorded function ("" when it cannot be re-executed); adds its code."""
    source = (step.get("code") or {}).get("source") or ""
    if not source:
        return ""
    ctx = recorded_context(step)
    keep = ({x["name"] for x in context_items(ctx, "imports")} | {x["name"] for x in context_items(ctx, "definitions")}
            | set(dir(builtins))) - {x["name"] for x in context_items(ctx, "external")}
    parsed = _tool_definition(step, source, ctx, keep, p)
    if parsed is None:
        return ""
    name = parsed.name
    if name in sources:
        if sources[name] == source:
            return name
        p.notes.append(f"tool {step.get('tool')!r}: another tool's function is also named {name!r}; its calls "
                       "are answered from the log.")
        return ""
    sources[name] = source
    p.code_blocks.append(_tool_context(ctx, keep, p, helpers) + parsed.text)
    p.functions[name] = str(step.get("tool") or name)
    return name


def _tool_definition(step: dict[str, Any], source: str, ctx: dict[str, Any], keep: set[str],
                     p: GraphPlan) -> Definition | None:
    """The tool's recorded function, unless it cannot be placed in the file (the note says why)."""
    try:
        parsed = definition(source, keep)
    except SourceRejected as exc:
        p.notes.append(f"tool {step.get('tool')!r}: {exc}; its calls are answered from the log.")
        return None
    names = {parsed.name} | {x["name"] for key in ("definitions", "constants", "external")
                             for x in context_items(ctx, key)}
    clashes = sorted(names & _taken_names())
    if clashes:
        p.notes.append(f"tool {step.get('tool')!r}: {', '.join(clashes)} would rebind a name this file needs; "
                       "its calls are answered from the log.")
        return None
    return parsed


def _tool_context(ctx: dict[str, Any], keep: set[str], p: GraphPlan, helpers: set[str]) -> str:
    """What a tool's code needs before it, once per file: stand-ins, imports, constants, helpers."""
    import_lines, constant_lines = context_lines(ctx, p.notes)
    block: list[str] = []
    for external in context_items(ctx, "external"):
        if external["name"] not in helpers:
            helpers.add(external["name"])
            block.append(f"{external['name']} = _Unavailable({external['name']!r}, "
                         f"{str(external.get('type', 'an object'))!r}, {str(external.get('kind', 'instance'))!r})")
    for line in [*dict.fromkeys(import_lines), *constant_lines]:
        if line not in helpers:
            helpers.add(line)
            block.append(line)
    text = "\n".join(block) + "\n\n" if block else ""
    for d in reversed(context_items(ctx, "definitions")):  # later-discovered helpers are used by earlier ones
        if d["name"] in helpers:
            continue
        helpers.add(d["name"])
        try:
            text += definition(str(d.get("source", "")), keep).text + "\n"
        except SourceRejected as exc:
            p.notes.append(f"{d['name']} could not be included: {exc}.")
            text += f"{d['name']} = _Unavailable({d['name']!r}, 'code the log could not include')\n"
    return text


def graph_plan(execution: dict[str, Any]) -> GraphPlan | None:
    """The plan of a graph replay, or None when the execution is not a graph run whose tools can re-run."""
    if not (execution.get("attributes") or {}).get(GRAPH_METHOD):
        return None
    value, present, truncated = payload_parts(execution.get("input"))
    if not present or truncated or not isinstance(value, dict):
        return None
    steps = execution.get("steps") or []
    nodes = _top_level_nodes(steps)
    tools = sorted((s for s in steps if s.get("kind") == sc.StepKind.TOOL and (s.get("code") or {}).get("source")),
                   key=lambda s: s.get("offset_ms") or 0)
    if not nodes or not tools or execution.get("steps_truncated"):
        return None
    p = GraphPlan()
    p.calls = _tool_calls(tools, p)
    owner = {i: _owner(t, nodes) for i, t in enumerate(tools)}
    for n, node in enumerate(nodes):
        entry = _node_entry(node, [i for i in range(len(tools)) if owner[i] == n])
        if entry is None:
            return None  # the node's update is not all in the log: nothing to rebuild the state from
        p.nodes.append(entry)
    if not p.functions:
        return None
    p.compare_note = compare_note(execution)
    return p


def _tool_calls(tools: list[dict[str, Any]], p: GraphPlan) -> list[dict[str, Any]]:
    """Each logged tool call, with the file's function that re-executes it where there is one."""
    sources: dict[str, str] = {}
    helpers: set[str] = set()
    calls = []
    for step in tools:
        call = {"tool": str(step.get("tool") or step.get("name") or ""),
                "tool_call_id": str((step.get("attributes") or {}).get(sc.GEN_AI_TOOL_CALL_ID, "") or ""),
                **step_call(step)}
        _, _, input_truncated = payload_parts(step.get("input"))
        function = _tool_code(step, p, sources, helpers)
        if input_truncated:
            call.pop("input", None)
            call["why"] = "its logged input was cut at the payload cap"
        elif function:
            call["function"] = function
        calls.append(call)
    return calls


def _node_entry(node: dict[str, Any], calls: list[int]) -> dict[str, Any] | None:
    """A graph node as the file replays it: its tool calls, and its logged error or state update."""
    attrs = node.get("attributes") or {}
    entry: dict[str, Any] = {"node": str(attrs.get(_NODE, "")), "step": str(attrs.get("langgraph.step", "")),
                             "calls": calls}
    logged = step_call(node)
    if "error" in logged:
        entry["error"] = logged["error"]
        return entry
    value, present, truncated = payload_parts(node.get("output"))
    if truncated:
        return None
    entry["output"] = value if present else None
    return entry


def graph_replay_file(execution: dict[str, Any], permalink: str, redact_keys: tuple[str, ...] = ()) -> str | None:
    """The replay file of a graph execution, or None when ``graph_plan`` finds none."""
    p = graph_plan(execution)
    if p is None:
        return None
    value, _, _ = payload_parts(execution.get("input"))
    counts: dict[str, int] = {}
    for call in p.calls:
        if call.get("function"):
            counts[call["function"]] = counts.get(call["function"], 0) + 1
    rerun = ", ".join(f"{fn}() ({n} call{'s' if n != 1 else ''})" for fn, n in counts.items())
    answered = sorted({n["node"] for n in p.nodes})
    graph = execution.get("name", "")
    lines = header_lines(_HeaderPlan({**execution, "code": {}}, permalink))  # its code is the call site
    lines += [
        "# Run:  python3 <this file>   (standard library only; no network, no LangChain/LangGraph needed)",
        f"# This execution is a run of the LangGraph graph {inert(graph)}, invoked by library code whose own",
        "# source the log does not hold. The file rebuilds the logged run from the graph's logged input:",
        f"#   RE-EXECUTED: the tool functions {inert(rerun)}, each with the",
        "#     input the log recorded for that call; each result is compared with the logged one.",
        f"#   ANSWERED FROM THE LOG: the nodes' state updates ({inert(', '.join(answered))}), i.e. the",
        "#     model's replies (LLM calls are not made), and the route: nodes run in the logged order.",
        "#   The tool messages in the state hold the re-executed tools' results.",
        "# It prints the rebuilt final state (the execution's output) and compares it with the logged one.",
        "# Exit status: 0 = every re-executed tool and the final output are the logged ones; 1 = different",
        "# (a diff is printed); 2 = cannot be compared (the reason is printed).",
    ]
    for note in p.notes:
        lines.append(f"# Note: {inert(note)}")
    lines += [
        "# Edit a tool's code below and run the file again. Review it first: it is the code the log recorded.",
        "", "from __future__ import annotations  # annotations may name things defined further down", "",
        "# ---- What the log recorded (edit LOGGED_INPUT or a call's input to try other input) ----",
        "import json as _json", "",
        f"EXECUTION_ID = {str(execution.get('id', ''))!r}",
        f"LOGGED_INPUT = {literal(value)}",
        f"EXPECTED = {literal(expected_outcome(execution))}",
        f"LOGGED_TOOL_CALLS = {literal(p.calls)}",
        f"LOGGED_NODES = {literal(p.nodes)}  # in the logged order; `calls` index LOGGED_TOOL_CALLS",
        f"REDACT_KEYS = {literal([str(k) for k in redact_keys])}  # masked as the log masks them", "",
        runtime_text(), "",
        "# ---- The tools' code that ran (edit freely) -----------------------------------------------",
        "",
        "\n\n".join(p.code_blocks),
        "",
        "TOOL_FUNCTIONS = {" + ", ".join(f"{fn!r}: {fn}" for fn in p.functions) + "}",
        "",
        "",
        "def run_graph():",
        "    \"\"\"The logged graph run, rebuilt with the tools re-executed (see the header).\"\"\"",
        "    return _replay_graph(LOGGED_INPUT, LOGGED_NODES, LOGGED_TOOL_CALLS, TOOL_FUNCTIONS, EXPECTED)",
        "",
        "",
        "if __name__ == \"__main__\":",
        f"    _sys.exit(_replay_main(run_graph, None, EXPECTED, {p.compare_note!r}))",
        "",
    ]
    return "\n".join(lines)


@dataclass
class _HeaderPlan:
    """What ``generate.header_lines`` reads of a plan."""

    execution: dict[str, Any]
    permalink: str
