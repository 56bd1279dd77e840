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
import builtins
import json
import math
import pprint
import re
import textwrap
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.replay.source import (
    Definition,
    SourceRejected,
    definition,
    inert,
    is_identifier,
    is_module_path,
)

EXIT_MATCH, EXIT_DIFFERENT, EXIT_CANNOT_REPLAY = 0, 1, 2
_RESERVED = frozenset({"_json", "_sys", "_replay_main", "_logged_step", "_SdkStandIn", "_Unavailable", "LOGGED_INPUT",
                       "EXPECTED", "LOGGED_CALLS", "LOGGED_BLOCKS", "LOGGED_CHILDREN", "BOUND", "ENVIRONMENT",
                       "ARGUMENTS", "REDACT_KEYS", "EXECUTION_ID"})
_SDK_DEFAULT_NAMES = ("agent", "automation", "step", "configure", "execlog_otel")


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


def _payload(p: dict[str, Any] | None) -> tuple[Any, bool, bool]:
    """(value, present, truncated) of a payload as ``presenters.payload`` returns it."""
    if not p:
        return None, False, False
    return p.get("value"), True, bool(p.get("truncated"))


def _error_of(message: str) -> dict[str, str]:
    """``"ValueError: bad"`` -> {type, message}; text without a type prefix is a message of type Exception."""
    head, sep, rest = (message or "").partition(": ")
    if sep and all(is_identifier(p) for p in head.split(".")):
        return {"type": head.rsplit(".", 1)[-1], "message": rest}
    return {"type": "Exception", "message": message or ""}


def _exception_event(events: list[dict[str, Any]]) -> dict[str, str] | None:
    for ev in events or ():
        if ev.get("name") == "exception":
            at = ev.get("attributes") or {}
            return {"type": str(at.get("exception.type", "Exception")).rsplit(".", 1)[-1],
                    "message": str(at.get("exception.message", ""))}
    return None


def _chat_completion(attrs: dict[str, str]) -> dict[str, Any] | None:
    """An LLM step's logged reply (``gen_ai.output.messages``) shaped like a chat completion response,
    so ``reply.choices[0].message.content`` reads it in the replay."""
    try:
        messages = json.loads(attrs.get(sc.GEN_AI_OUTPUT_MESSAGES, ""))
    except ValueError:
        return None
    if not isinstance(messages, list):
        return None
    choices = []
    for i, m in enumerate(x for x in messages if isinstance(x, dict)):
        parts = [p for p in m.get("parts") or [] if isinstance(p, dict)]
        text = "".join(str(p.get("content", "")) for p in parts if p.get("type") == "text")
        message: dict[str, Any] = {"role": m.get("role", "assistant"), "content": text}
        calls = [{"id": p.get("id"), "type": "function",
                  "function": {"name": p.get("name"), "arguments": json.dumps(p.get("arguments"))}}
                 for p in parts if p.get("type") == "tool_call"]
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": i, "finish_reason": m.get("finish_reason"), "message": message})

    def tokens(key: str) -> int:
        raw = str(attrs.get(key, "") or "")
        return int(raw) if raw.isdigit() else 0

    usage = {"prompt_tokens": tokens(sc.GEN_AI_USAGE_INPUT_TOKENS),
             "completion_tokens": tokens(sc.GEN_AI_USAGE_OUTPUT_TOKENS)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {"id": attrs.get(sc.GEN_AI_RESPONSE_ID, ""), "object": "chat.completion",
            "model": attrs.get(sc.GEN_AI_RESPONSE_MODEL, ""), "choices": choices, "usage": usage}


def step_call(step: dict[str, Any]) -> dict[str, Any]:
    """A logged step as the runtime's stand-ins want it: input, and output or error."""
    call: dict[str, Any] = {}
    value, present, _ = _payload(step.get("input"))
    if present:
        call["input"] = value
    if step.get("status") == sc.StepStatus.FAILED:
        call["error"] = _exception_event(step.get("events") or []) or _error_of(step.get("error", ""))
        error_type = str((step.get("attributes") or {}).get(sc.ERROR_TYPE, ""))
        if call["error"]["type"] == "Exception" and is_identifier(error_type.rsplit(".", 1)[-1]):
            call["error"]["type"] = error_type.rsplit(".", 1)[-1]
    else:
        value, present, _ = _payload(step.get("output"))
        if not present and (step.get("attributes") or {}).get(sc.GEN_AI_OUTPUT_MESSAGES):
            value = _chat_completion(step["attributes"])
        call["output"] = value
    return call


def _step_keys(step: dict[str, Any]) -> list[str]:
    """Keys a step may be found by: ``fn:<function>@<line>`` (a decorated step's spans carry its function
    and first line; a ``with step()`` block's carry the enclosing function and the ``with`` line), and
    ``name:<step name>`` / ``name:<tool name>``."""
    keys = []
    code = step.get("code") or {}
    if code.get("function"):
        keys.append(f"fn:{code['function']}@{code.get('line', '')}")
    for name in dict.fromkeys((step.get("tool"), step.get("name"))):
        if name:
            keys.append("name:" + str(name))
    return keys


def _environment_names(tree: ast.AST) -> set[str]:
    """Names in ``os.environ["X"]``, ``os.environ.get("X")`` and ``os.getenv("X")``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "environ":
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and (
                node.func.attr == "getenv" or (node.func.attr == "get" and isinstance(node.func.value, ast.Attribute)
                                               and node.func.value.attr == "environ")):
            key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isprintable():
            names.add(key.value)
    return names


def _library_call_site(source: str, ctx: dict[str, Any], code: dict[str, Any], sdk: set[str]) -> str:
    """Why nothing can re-execute when the execution is a library call made at a line inside the recorded
    function (e.g. ``graph.invoke(...)`` recorded by the LangGraph instrumentation at its call site):
    the function around it is not the execution, and the execution's own work ran inside the library."""
    first, line = ctx.get("first_line"), str(code.get("line") or "")
    if not isinstance(first, int) or not first or not line.isdigit() or int(line) == first:
        return ""
    offset = int(line) - first + 1  # 1-based line of the call within the recorded source
    tree = ast.parse(source.replace("\r\n", "\n"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)) and node.lineno == offset:
            return ""  # a `with agent(...)` / `with automation(...)` block: replayed in "block" mode
    lines = source.splitlines()
    call = lines[offset - 1].strip() if 0 < offset <= len(lines) else ""
    function = code.get("function") or "the recorded function"
    return (f"this execution is the library call at line {line} of {function} ({call!r}): its work ran inside "
            "the library (for example a LangGraph graph), whose code the log does not hold, and the function "
            "around the call is not the execution, so there is nothing of it to re-execute. The context and "
            "outputs below are what the log holds. To get a file that re-executes, make the call inside a "
            "function decorated with @agent or @automation (or a `with agent(...)` block): that function's code "
            "is recorded, and the library call is answered from the log.")


def _sdk_function(node: ast.expr, sdk: set[str]) -> str:
    """The SDK function a call or decorator names (``ex.agent(...)`` / ``agent`` -> "agent"), else ""."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in sdk:
        return func.attr
    if isinstance(func, ast.Name) and func.id in sdk:
        return func.id
    return ""


def _execution_blocks(tree: ast.AST, sdk: set[str]) -> list[ast.Call]:
    """The ``agent(...)`` / ``automation(...)`` calls that open ``with`` blocks, in source order."""
    return [item.context_expr for node in ast.walk(tree) if isinstance(node, (ast.With, ast.AsyncWith))
            for item in node.items if isinstance(item.context_expr, ast.Call)
            and _sdk_function(item.context_expr, sdk) in ("agent", "automation")]


def _sdk_calls(tree: ast.AST, sdk: set[str]) -> tuple[set[str], bool, bool]:
    """(names given to ``step("...")`` calls, decorated by agent/automation, has ``with agent/automation``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _sdk_function(node, sdk) == "step" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    top = tree.body[0] if isinstance(tree, ast.Module) and tree.body else None
    decorated = isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        _sdk_function(d, sdk) in ("agent", "automation") for d in top.decorator_list)
    return names, decorated, bool(_execution_blocks(tree, sdk))


def block_arguments(tree: ast.AST, sdk: set[str], params: tuple[str, ...]) -> dict[str, list[str]]:
    """Where each argument of the recorded function sits in the logged input of its first ``with
    agent/automation(input=...)`` block, as a path of keys: ``input={"prompt": question}`` ->
    ``{"question": ["prompt"]}``; ``input=question`` -> ``{"question": []}``. An argument the input
    only holds transformed (``question.upper()``) has no path: the log cannot give it back."""
    blocks = _execution_blocks(tree, sdk)
    given = next((k.value for k in blocks[0].keywords if k.arg == "input"), None) if blocks else None
    paths: dict[str, list[str]] = {}

    def walk(node: ast.expr | None, path: list[str]) -> None:
        if isinstance(node, ast.Name) and node.id in params:
            paths.setdefault(node.id, path)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    walk(value, [*path, key.value])

    walk(given, [])
    return paths


@dataclass
class ReplayPlan:
    """What the file will contain, decided before any text is written."""

    execution: dict[str, Any]
    permalink: str
    reason: str = ""  # why nothing can be re-executed ("" when it can)
    compare_note: str = ""  # why the outcome cannot be compared ("" when it can)
    root: Definition | None = None
    context: dict[str, Any] = field(default_factory=dict)
    code_blocks: list[str] = field(default_factory=list)
    logged_calls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    redact_keys: tuple[str, ...] = ()
    mode: str = "function"  # or "block": the execution is a `with agent/automation(...)` inside the function
    logged_blocks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    logged_children: list[dict[str, Any]] = field(default_factory=list)
    environment: set[str] = field(default_factory=set)  # environment variables the code reads
    arguments: dict[str, list[str]] = field(default_factory=dict)  # "block" mode: argument -> path in the input


def _context(execution: dict[str, Any]) -> dict[str, Any]:
    raw = (execution.get("attributes") or {}).get(sc.CODE_CONTEXT)
    if not raw:
        return {}
    try:
        ctx = json.loads(raw)
    except ValueError:
        return {}
    return ctx if isinstance(ctx, dict) else {}


def _items(ctx: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Entries of the recorded context whose names may be bound in the file: identifiers, and neither
    dunders (``__builtins__``) nor the runtime's own ``_``-prefixed names the file relies on."""
    return [x for x in ctx.get(key) or [] if isinstance(x, dict) and is_identifier(x.get("name"))
            and not x["name"].startswith("__") and x["name"] not in _RESERVED]


def _steps_by_key(steps: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for step in sorted(steps, key=lambda s: (s.get("started_at") or "", s.get("depth", 0))):
        for key in _step_keys(step):
            by_key.setdefault(key, []).append(step)
    return by_key


def context_lines(ctx: dict[str, Any], notes: list[str]) -> tuple[list[str], list[str]]:
    """Import lines and constant lines for the recorded context of a function (its standard-library
    imports, literal constants, regexes and loggers; values too large for the log stand in)."""
    import_lines: list[str] = []
    for imp in _items(ctx, "imports"):
        module, attr, name = imp.get("module"), imp.get("attr"), imp["name"]
        if not is_module_path(module):
            continue
        if attr is None:
            import_lines.append(f"import {module}" if name == module else f"import {module} as {name}")
        elif is_identifier(attr):
            import_lines.append(f"from {module} import {attr}" + ("" if attr == name else f" as {name}"))
    constant_lines: list[str] = []
    for const in _items(ctx, "constants"):
        name, kind = const["name"], const.get("kind")
        if kind == "literal":
            try:
                if const.get("literal") != "set()":
                    ast.literal_eval(str(const.get("literal", "")))
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            constant_lines.append(f"{name} = {const['literal']}")
        elif kind == "regex" and isinstance(const.get("pattern"), str) and isinstance(const.get("flags"), int):
            try:
                re.compile(const["pattern"], int(const["flags"]))
            except (re.error, ValueError, TypeError, OverflowError, RecursionError):
                continue
            import_lines.append("import re")
            constant_lines.append(f"{name} = re.compile({const['pattern']!r}, {int(const['flags'])})")
        elif kind == "logger" and isinstance(const.get("logger"), str):
            import_lines.append("import logging")
            constant_lines.append(f"{name} = logging.getLogger({const['logger']!r})")
    for omitted in _items(ctx, "omitted"):
        notes.append(f"{omitted['name']} was not recorded ({omitted.get('reason', '')}).")
        constant_lines.append(f"{omitted['name']} = _Unavailable({omitted['name']!r}, "
                              f"{'a value too large for the log'!r})")
    return import_lines, constant_lines


def plan(execution: dict[str, Any], permalink: str) -> ReplayPlan:
    p = ReplayPlan(execution=execution, permalink=permalink)
    code = execution.get("code") or {}
    attrs = execution.get("attributes") or {}
    source = code.get("source") or ""
    if not source:
        if attrs.get(sc.CODE_SOURCE + sc.TRUNCATED_SUFFIX) == "true":
            p.reason = ("the execution's source code was larger than the payload cap when it ran, so it was not "
                        "recorded")
        elif code.get("function"):
            p.reason = ("no source code was recorded for this execution: its location was, but code capture was "
                        "off when it ran (EXECLOG_CAPTURE_CODE=false or capture_code=False), so there is nothing "
                        "to re-execute. "
                        "The context and outputs below are what the log holds.")
        else:
            origin = (execution.get("resource") or {}).get("telemetry.sdk.name") or "another instrumentation"
            p.reason = (f"no source code was recorded for this execution: its spans come from {origin}, which "
                        "records what ran (names, inputs, outputs, timings) but not the code, so there is nothing "
                        "to re-execute. The context and outputs below are what the log holds. To get a file that "
                        "re-executes, run the call inside a function decorated with @agent or @automation (or a "
                        "`with agent(...)` block): its code is recorded, and calls such as graph.invoke(...) are "
                        "answered from the log.")
        return p
    _, input_present, input_truncated = _payload(execution.get("input"))
    if input_truncated:
        p.reason = "the logged input was cut at the payload cap, so the code cannot be re-run with the real input"
        return p
    ctx = _context(execution)
    p.context = ctx
    sdk = {x for x in (ctx.get("sdk") or []) if is_identifier(x)} | set(_SDK_DEFAULT_NAMES)
    external = {x["name"]: str(x.get("type", "an object")) for x in _items(ctx, "external")}
    external_kind = {x["name"]: str(x.get("kind", "instance")) for x in _items(ctx, "external")}
    defs = _items(ctx, "definitions")
    keep = ({x["name"] for x in _items(ctx, "imports")} | {x["name"] for x in defs} | set(dir(builtins))) \
        - sdk - set(external)
    try:
        p.root = definition(source, keep)
    except SourceRejected as exc:
        p.reason = str(exc)
        return p
    call_site = _library_call_site(source, ctx, code, sdk)
    if call_site:
        p.reason = call_site
        return p

    by_key = _steps_by_key(execution.get("steps") or [])
    claimed: set[str] = set()

    def calls_for(name: str, fn_key: str = "") -> list[dict[str, Any]] | None:
        steps = (by_key.get(fn_key) if fn_key else None) or by_key.get("name:" + name)
        if not steps:
            return None
        fresh = [s for s in steps if s.get("span_id") not in claimed]
        claimed.update(s.get("span_id") for s in fresh)
        return [step_call(s) for s in fresh]

    blocks: list[str] = []
    import_lines, constant_lines = context_lines(ctx, p.notes)
    if import_lines:
        blocks.append("\n".join(dict.fromkeys(import_lines)) + "\n")
    taken = set(external) | {x["name"] for x in defs} | {x["name"] for x in _items(ctx, "imports")}
    stand_in_lines = [f"{name} = _SdkStandIn({name!r})" for name in sorted(sdk - taken)]
    for name, what in external.items():
        calls = calls_for(name)
        if calls is not None:
            stand_in_lines.append(f"{name} = _logged_step({name!r}, LOGGED_CALLS[{name!r}])")
            p.logged_calls[name] = calls
        else:
            stand_in_lines.append(f"{name} = _Unavailable({name!r}, {what!r}, {external_kind[name]!r})")
    blocks.append("# The execlog SDK and objects from outside the standard library.\n"
                  + "\n".join(stand_in_lines) + "\n")
    if constant_lines:
        blocks.append("\n".join(constant_lines) + "\n")
    # Later-discovered helpers are what earlier ones use (even at definition time, as decorators): first.
    stdlib_keep = {x["name"] for x in _items(ctx, "imports")} | set(dir(builtins))
    for d in reversed(defs):
        name = d["name"]
        function = str(d.get("function", ""))
        fn_key = f"fn:{function}@{d.get('line', '')}"
        is_step = bool(by_key.get(fn_key)) or bool(d.get("decorated") and by_key.get("name:" + name))
        try:
            # A step answered from the log is replaced anyway: only standard-library decorators stay.
            parsed = definition(str(d.get("source", "")), stdlib_keep if is_step else keep)
        except SourceRejected as exc:
            p.notes.append(f"{name} could not be included: {exc}.")
            blocks.append(f"{name} = _Unavailable({name!r}, 'code the log could not include')\n")
            continue
        if parsed.bases & (sdk | set(external)):
            # A subclass of a library class cannot be defined without the library: it stands in as one.
            blocks.append(f"{name} = _Unavailable({name!r}, {'a subclass of a library class'!r}, 'class')\n")
            continue
        text = parsed.text
        if parsed.name != name:
            text += f"{name} = {parsed.name}\n"
        # A decorated helper may be a step (matched by function, else by name); a plain one only by function.
        calls = calls_for(name, fn_key) if is_step else None
        if calls is not None:
            p.logged_calls[name] = calls
            text += (f"{name} = _logged_step({name!r}, LOGGED_CALLS[{name!r}], original={name})"
                     f"  # answered from the log; delete this line to run the code above\n")
        blocks.append(text)
    blocks.append(p.root.text)
    p.code_blocks = blocks
    # `with step("name")` blocks in the recorded code: their logged results, by step name.
    step_names: set[str] = set()
    for text in [source, *(str(d.get("source", "")) for d in defs)]:
        try:
            tree = ast.parse(text.replace("\r\n", "\n"))
        except (SyntaxError, ValueError):
            continue
        names, decorated, has_block = _sdk_calls(tree, sdk)
        step_names |= names
        p.environment |= _environment_names(tree)
        if text is source:
            p.mode = "block" if has_block and not decorated else "function"
            if p.mode == "block":
                p.arguments = block_arguments(tree, sdk, p.root.params)
    for name in sorted(step_names):
        calls = calls_for(name)
        if calls:
            p.logged_blocks[name] = calls
    if {"instance", "module"} & set(external_kind.values()):
        # Methods of library objects (a LangGraph graph, an API client) that ran as steps of their own
        # answer, in order, from the execution's direct steps no other stand-in took.
        children = [{"step": str(st.get("name", "")), **step_call(st)} for st in execution.get("steps") or []
                    if st.get("depth", 0) == 0 and st.get("span_id") not in claimed]
        p.logged_children = [c for c in children if c.get("output") is not None or c.get("error")]

    _, output_present, output_truncated = _payload(execution.get("output"))
    status = execution.get("status")
    if status in sc.LIVE_STATUSES:
        p.compare_note = f"the execution was {status} when this file was made, so it has no final output yet"
    elif output_truncated:
        p.compare_note = "the logged output was cut at the payload cap"
    elif status in sc.FAILED_STATUSES and not output_present:
        pass
    elif not output_present:
        p.compare_note = "no output was logged for this execution"
    if not input_present and p.root.params:
        p.notes.append("No input was logged; the function is called without arguments.")
    return p


def expected_outcome(execution: dict[str, Any]) -> dict[str, Any]:
    value, present, _ = _payload(execution.get("output"))
    if execution.get("status") in sc.FAILED_STATUSES and not present:
        message = execution.get("validation_message") or execution.get("status_message") or ""
        return {"error": _error_of(message)}
    return {"output": value}


def _header(p: ReplayPlan) -> list[str]:
    e = p.execution
    rows = [("Execution id", e.get("id", "")), ("Name", e.get("name", "")), ("Kind", e.get("kind", "")),
            ("Started at", e.get("started_at") or ""), ("Status", e.get("status", "")),
            ("Attempt", e.get("attempt", 1)), ("Service", e.get("service", "")), ("Permalink", p.permalink)]
    function = (e.get("code") or {}).get("function")
    if function:
        rows.append(("Function", function))
    lines = ["#!/usr/bin/env python3", "# Replay of an execution logged by execlog-otel.", "#"]
    lines += [f"#   {label + ':':<14}{inert(value)}" for label, value in rows]
    lines.append("#")
    return lines


def _bound(e: dict[str, Any]) -> dict[str, Any]:
    attrs = e.get("attributes") or {}
    raw = str(attrs.get("celery.retries", "") or "")
    retries = int(raw) if raw.isdigit() else max(int(e.get("attempt") or 1) - 1, 0)
    return {"retries": retries, "request_id": str(e.get("request_id") or "")}


def _data_section(p: ReplayPlan) -> str:
    e = p.execution
    value, present, _ = _payload(e.get("input"))
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
    lines = _header(p)
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
            value, present, truncated = _payload(s.get(key))
            if present:
                item[key] = value
                if truncated:
                    item[key + "_truncated"] = True
        steps.append(item)
    value_in, in_present, _ = _payload(e.get("input"))
    value_out, out_present, _ = _payload(e.get("output"))
    context = {k: e.get(k) for k in ("event", "target", "target_record_id", "request_id", "triggered_by",
                                     "validation_message", "raised_action", "executed_action_ids",
                                     "duration_ms", "models", "tools", "connectors", "total_tokens")
               if e.get(k) not in (None, "", [], 0)}
    lines = _header(p)
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
