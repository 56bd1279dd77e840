"""One execution -> one self-contained Python file that replays it (Download Code).

The file needs nothing beyond the standard library. It holds, in order: a header
comment (id, name, time, status, permalink — all span data made inert), the
logged data as Python literals, the replay runtime (``runtime.py``), the
recorded code (the execution's function, the helpers it calls, its imports and
constants, stand-ins for the rest), and a main block that calls the function
with the logged input and compares the outcome with the logged one.

Nested steps whose results were logged are answered from the log: their names
are rebound to stand-ins that return (or raise) the logged results in call
order, so connector, tool and LLM calls need no network.

Exit status of the file: 0 the replay reproduces the logged outcome, 1 it differs
(a diff is printed), 2 it cannot be re-executed or compared (the reason is printed;
a file for an execution without recorded code always exits 2).
"""

from __future__ import annotations

import ast
import json
import math
import pprint
import textwrap
from importlib.resources import files
from typing import Any

from execlog_otel.replay.logged import expected_outcome, payload_parts
from execlog_otel.replay.plan import ReplayPlan, plan
from execlog_otel.replay.source import inert

EXIT_MATCH, EXIT_DIFFERENT, EXIT_CANNOT_REPLAY = 0, 1, 2


def runtime_text() -> str:
    """The replay runtime as the file holds it: the SDK's ``loggable`` module inlined (so a replayed value
    is encoded and masked by the same code as the logged one), then ``runtime.py``."""
    loggable = files("execlog_otel.sdk").joinpath("loggable.py").read_text(encoding="utf-8")
    # In a function body, its names stay out of the file's top level, where the recorded code lives.
    inlined = ("# ---- How the SDK logs a value (execlog_otel/sdk/loggable.py, inlined unchanged) ----\n"
               "def _loggable_module():\n"
               "    import types as _module_types\n\n"
               + textwrap.indent(loggable, "    ")
               + "\n    return _module_types.SimpleNamespace(**{k: v for k, v in locals().items() if k[0] != '_'})\n"
               "\n\n_loggable = _loggable_module()\n\n\n")
    return inlined + files("execlog_otel.replay").joinpath("runtime.py").read_text(encoding="utf-8")


def literal(value: Any) -> str:
    """A Python expression for a JSON value: a readable literal, or ``_json.loads(...)`` for NaN/Infinity."""
    value = json.loads(json.dumps(value, default=str))  # plain JSON types only (str subclasses such as enums)
    if _finite(value):
        return pprint.pformat(value, indent=1, width=100, sort_dicts=False)
    return f"_json.loads({json.dumps(value, ensure_ascii=False)!r})"


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _finite(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


def header_lines(p: ReplayPlan) -> list[str]:
    e = p.execution
    rows = [("Execution id", e.get("id", "")), ("Name", e.get("name", "")), ("Kind", e.get("kind", "")),
            ("Started at", e.get("started_at") or ""), ("Status", e.get("status", "")),
            ("Attempt", e.get("attempt", 1)), ("Service", e.get("service", "")), ("Permalink", p.permalink)]
    function = (e.get("code") or {}).get("function")
    if function:
        rows.append(("Function", function))
    lines = ["#!/usr/bin/env python3", "# Replay of an execution logged by execlog-otel.", "#"]
    lines += [f"#   {label + ':':<14}{inert(value)}" for label, value in rows]
    if e.get("steps_truncated"):
        # A big execution: the file is made from its first steps only, and says so.
        lines.append(f"#   Steps:        the log holds {int(e.get('steps_total') or 0):,} steps; this file has the "
                     f"first {len(e.get('steps') or []):,} (their logged results); the rest are left out")
    lines.append("#")
    return lines


def _bound(e: dict[str, Any]) -> dict[str, Any]:
    attrs = e.get("attributes") or {}
    raw = str(attrs.get("celery.retries", "") or "")
    retries = int(raw) if raw.isascii() and raw.isdigit() else max(int(e.get("attempt") or 1) - 1, 0)
    return {"retries": retries, "request_id": str(e.get("request_id") or "")}


def _data_section(p: ReplayPlan) -> str:
    e = p.execution
    value, present, _ = payload_parts(e.get("input"))
    out = ["# ---- What the log recorded (edit LOGGED_INPUT to try other input) ----",
           "import json as _json", "",
           f"EXECUTION_ID = {str(e.get('id', ''))!r}",
           f"LOGGED_INPUT = {literal(value if present else None)}",
           f"EXPECTED = {literal(expected_outcome(e))}",
           f"LOGGED_CALLS = {literal(p.logged_calls)}",
           f"LOGGED_BLOCKS = {literal(p.logged_blocks)}  # results of `with step(name)` blocks",
           f"LOGGED_CHILDREN = {literal(p.logged_children)}  # results of library calls that were steps",
           f"BOUND = {literal(_bound(e))}  # what `self` of a bound task (Celery) knows",
           f"ENVIRONMENT = {literal(sorted(p.environment))}  # read by the code; placeholders when unset",
           f"ARGUMENTS = {literal(p.arguments)}  # where the function's arguments are in the block's input",
           f"REDACT_KEYS = {literal(list(p.redact_keys))}  # masked as the log masks them", ""]
    return "\n".join(out)


def _replayable_file(p: ReplayPlan) -> str:
    assert p.root is not None
    called = ", ".join([f"{n}() ({len(c)} call{'s' if len(c) != 1 else ''})" for n, c in p.logged_calls.items()]
                       + [f"step {n!r} ({len(c)})" for n, c in p.logged_blocks.items()])
    lines = header_lines(p)
    lines += [
        "# Run:  python3 <this file>   (standard library only; no network, no execlog needed)",
        f"# It calls {p.root.name}() with the logged input, prints the output and compares it with the",
        "# logged one. Exit status: 0 = same as logged; 1 = different (a diff is printed);",
        "# 2 = cannot be re-executed or compared (the reason is printed).",
    ]
    if called:
        lines.append(f"# Answered from the log instead of being called: {inert(called)}")
    for note in p.notes:
        lines.append(f"# Note: {inert(note)}")
    lines += ["# Edit the code below and run the file again. Review it first: it is the code the log recorded.",
              "", "from __future__ import annotations  # annotations may name things defined further down", "",
              _data_section(p), runtime_text(), "",
              "# ---- The code that ran (edit freely) ----------------------------------------------------",
              ""]
    lines.append("\n\n".join(p.code_blocks))
    lines += ["", "if __name__ == \"__main__\":",
              f"    _sys.exit(_replay_main({p.root.name}, LOGGED_INPUT, EXPECTED, {p.compare_note!r}, "
              f"{p.mode!r}, LOGGED_BLOCKS, LOGGED_CHILDREN, BOUND, ENVIRONMENT, ARGUMENTS))", ""]
    return "\n".join(lines)


def _explanatory_file(p: ReplayPlan) -> str:
    e = p.execution
    steps = []
    for s in e.get("steps") or []:
        item = {"name": s.get("name"), "kind": s.get("kind"), "status": s.get("status"),
                "started_at": s.get("started_at"), "duration_ms": s.get("duration_ms")}
        for key in ("model", "tool", "connector", "error"):
            if s.get(key):
                item[key] = s[key]
        for key in ("input", "output"):
            value, present, truncated = payload_parts(s.get(key))
            if present:
                item[key] = value
                if truncated:
                    item[key + "_truncated"] = True
        steps.append(item)
    value_in, in_present, _ = payload_parts(e.get("input"))
    value_out, out_present, _ = payload_parts(e.get("output"))
    context = {k: e.get(k) for k in ("event", "target", "target_record_id", "request_id", "triggered_by",
                                     "validation_message", "raised_action", "executed_action_ids",
                                     "duration_ms", "models", "tools", "connectors", "total_tokens")
               if e.get(k) not in (None, "", [], 0)}
    lines = header_lines(p)
    lines += [
        "# This execution cannot be re-executed:",
        f"#   {inert(p.reason)}",
        f"# Running this file prints what the log holds and exits with status {EXIT_CANNOT_REPLAY}.",
        "",
        "import json as _json",
        "import sys as _sys",
        "",
        f"REASON = {p.reason!r}",
        f"CONTEXT = {literal(context)}",
        f"LOGGED_INPUT = {literal(value_in if in_present else None)}",
        f"LOGGED_OUTPUT = {literal(value_out if out_present else None)}",
        f"LOGGED_STEPS = {literal(steps)}",
        "",
        "",
        "def _show(title, value):",
        "    print(f\"{title}:\")",
        "    print(_json.dumps(value, indent=2, ensure_ascii=False))",
        "",
        "",
        "if __name__ == \"__main__\":",
        "    _show(\"Context\", CONTEXT)",
        "    _show(\"Input\", LOGGED_INPUT)",
        "    _show(\"Steps\", LOGGED_STEPS)",
        "    _show(\"Output\", LOGGED_OUTPUT)",
        "    print(f\"\\nNothing was re-executed: {REASON}\", file=_sys.stderr)",
        f"    _sys.exit({EXIT_CANNOT_REPLAY})",
        "",
    ]
    return "\n".join(lines)


def replay_file(execution: dict[str, Any], permalink: str, redact_keys: tuple[str, ...] = ()) -> str:
    """The replay file's text for an execution dict shaped like ``presenters.detail()`` (the API's JSON).

    ``redact_keys``: the key fragments the runner masked (``Settings.redact_keys``), so the replay's
    output is masked the same way before it is compared."""
    from execlog_otel.replay.graph import graph_replay_file  # it builds on this module

    p = plan(execution, permalink)
    p.redact_keys = tuple(str(k) for k in redact_keys)
    graph_text = graph_replay_file(execution, permalink, p.redact_keys) if p.reason else None
    text = graph_text or (_explanatory_file(p) if p.reason else _replayable_file(p))
    try:
        ast.parse(text)
    except SyntaxError as exc:  # defensive: every piece was checked, but never serve a broken file
        p.reason = f"the recorded code could not be assembled into a valid file ({exc.msg})"
        text = _explanatory_file(p)
    return text


def is_replayable(execution: dict[str, Any]) -> tuple[bool, str]:
    from execlog_otel.replay.graph import graph_plan

    p = plan(execution, "")
    if p.reason and graph_plan(execution) is not None:
        return True, ""
    return not p.reason, p.reason
