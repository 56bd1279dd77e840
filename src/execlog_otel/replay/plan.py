"""What a Download Code file will hold, decided before any text is written (``generate`` writes it).

Planning runs in phases, each a function below ``plan()``: why the code cannot be re-executed
(no source, a cut input, a library call site); the recorded root definition; the code blocks
(imports and constants, stand-ins for the SDK and for library objects, the recorded helpers,
steps answered from the log); what the recorded code reads (``with step()`` blocks, environment
variables, where a ``with agent()`` block's input came from); and whether the outcome can be
compared with the logged one.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.replay.logged import payload_parts, recorded_context, step_call, steps_by_key
from execlog_otel.replay.source import (
    Definition,
    SourceRejected,
    definition,
    is_identifier,
    is_module_path,
)

# Names the file itself binds at its top level: recorded code must not rebind them.
RESERVED_NAMES = frozenset({"_json", "_sys", "_replay_main", "_logged_step", "_SdkStandIn", "_Unavailable",
                            "LOGGED_INPUT", "EXPECTED", "LOGGED_CALLS", "LOGGED_BLOCKS", "LOGGED_CHILDREN", "BOUND",
                            "ENVIRONMENT", "ARGUMENTS", "REDACT_KEYS", "EXECUTION_ID"})
_SDK_DEFAULT_NAMES = ("agent", "automation", "step", "configure", "execlog_otel")


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


def _library_call_site(source: str, ctx: dict[str, Any], code: dict[str, Any]) -> str:
    """Why nothing can re-execute when the execution is a library call made at a line inside the recorded
    function (e.g. ``graph.invoke(...)`` recorded by the LangGraph instrumentation at its call site):
    the function around it is not the execution, and the execution's own work ran inside the library."""
    first, line = ctx.get("first_line"), str(code.get("line") or "")
    if not isinstance(first, int) or not first or not (line.isascii() and line.isdigit()) or int(line) == first:
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


def context_items(ctx: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Entries of the recorded context whose names may be bound in the file: identifiers, and neither
    dunders (``__builtins__``) nor the runtime's own ``_``-prefixed names the file relies on."""
    return [x for x in ctx.get(key) or [] if isinstance(x, dict) and is_identifier(x.get("name"))
            and not x["name"].startswith("__") and x["name"] not in RESERVED_NAMES]


def context_lines(ctx: dict[str, Any], notes: list[str]) -> tuple[list[str], list[str]]:
    """Import lines and constant lines for the recorded context of a function (its standard-library
    imports, literal constants, regexes and loggers; values too large for the log stand in)."""
    import_lines = [line for line in map(_import_line, context_items(ctx, "imports")) if line]
    constant_lines: list[str] = []
    for const in context_items(ctx, "constants"):
        needs, line = _constant_line(const)
        if line:
            import_lines += needs
            constant_lines.append(line)
    for omitted in context_items(ctx, "omitted"):
        notes.append(f"{omitted['name']} was not recorded ({omitted.get('reason', '')}).")
        constant_lines.append(f"{omitted['name']} = _Unavailable({omitted['name']!r}, "
                              f"{'a value too large for the log'!r})")
    return import_lines, constant_lines


def _import_line(imp: dict[str, Any]) -> str:
    module, attr, name = imp.get("module"), imp.get("attr"), imp["name"]
    if not is_module_path(module):
        return ""
    if attr is None:
        return f"import {module}" if name == module else f"import {module} as {name}"
    if is_identifier(attr):
        return f"from {module} import {attr}" + ("" if attr == name else f" as {name}")
    return ""


def _constant_line(const: dict[str, Any]) -> tuple[list[str], str]:
    """(imports it needs, the line binding the constant); no line when the recorded value is not valid."""
    name, kind = const["name"], const.get("kind")
    if kind == "literal":
        try:
            if const.get("literal") != "set()":
                ast.literal_eval(str(const.get("literal", "")))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return [], ""
        return [], f"{name} = {const['literal']}"
    if kind == "regex" and isinstance(const.get("pattern"), str) and isinstance(const.get("flags"), int):
        try:
            re.compile(const["pattern"], int(const["flags"]))
        except (re.error, ValueError, TypeError, OverflowError, RecursionError):
            return [], ""
        return ["import re"], f"{name} = re.compile({const['pattern']!r}, {int(const['flags'])})"
    if kind == "logger" and isinstance(const.get("logger"), str):
        return ["import logging"], f"{name} = logging.getLogger({const['logger']!r})"
    return [], ""


@dataclass(frozen=True)
class _Scope:
    """The names the recorded code uses, by what the file does with them."""

    context: dict[str, Any]
    sdk: frozenset[str]  # bound to the execlog SDK: no-op stand-ins
    external: dict[str, str]  # objects from outside the standard library: name -> what they are
    external_kind: dict[str, str]  # name -> "instance", "module", "class", "function"
    definitions: list[dict[str, Any]]  # the recorded helpers
    imports: frozenset[str]  # standard-library imports

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> _Scope:
        external = context_items(ctx, "external")
        return cls(context=ctx,
                   sdk=frozenset({x for x in (ctx.get("sdk") or []) if is_identifier(x)} | set(_SDK_DEFAULT_NAMES)),
                   external={x["name"]: str(x.get("type", "an object")) for x in external},
                   external_kind={x["name"]: str(x.get("kind", "instance")) for x in external},
                   definitions=context_items(ctx, "definitions"),
                   imports=frozenset(x["name"] for x in context_items(ctx, "imports")))

    @property
    def keep(self) -> set[str]:
        """Decorators that stay on recorded code: standard-library and recorded ones."""
        return (set(self.imports) | {x["name"] for x in self.definitions} | set(dir(builtins))) \
            - self.sdk - set(self.external)

    @property
    def stdlib_keep(self) -> set[str]:
        """Decorators that stay on a step answered from the log (it is replaced anyway)."""
        return set(self.imports) | set(dir(builtins))


class _StepLog:
    """The execution's logged steps; each answers one stand-in only (the first that claims it)."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.by_key = steps_by_key(steps)
        self.claimed: set[str] = set()

    def has(self, key: str) -> bool:
        return bool(self.by_key.get(key))

    def calls_for(self, name: str, fn_key: str = "") -> list[dict[str, Any]] | None:
        steps = (self.by_key.get(fn_key) if fn_key else None) or self.by_key.get("name:" + name)
        if not steps:
            return None
        fresh = [s for s in steps if s.get("span_id") not in self.claimed]
        self.claimed.update(s.get("span_id") for s in fresh)
        return [step_call(s) for s in fresh]


def plan(execution: dict[str, Any], permalink: str) -> ReplayPlan:
    """What the file for ``execution`` holds; ``reason`` says why it cannot re-execute (else "")."""
    p = ReplayPlan(execution=execution, permalink=permalink)
    code = execution.get("code") or {}
    source = code.get("source") or ""
    p.reason = _input_reason(execution) if source else _no_source_reason(execution)
    if p.reason:
        return p
    p.context = recorded_context(execution)
    scope = _Scope.of(p.context)
    try:
        p.root = definition(source, scope.keep)
    except SourceRejected as exc:
        p.reason = str(exc)
        return p
    p.reason = _library_call_site(source, p.context, code)
    if p.reason:
        return p
    log = _StepLog(execution.get("steps") or [])
    p.code_blocks = _code_blocks(p, scope, log)
    _read_code(p, source, scope, log)
    p.logged_children = _logged_children(execution, scope, log)
    p.compare_note = compare_note(execution)
    _, input_present, _ = payload_parts(execution.get("input"))
    if not input_present and p.root.params:
        p.notes.append("No input was logged; the function is called without arguments.")
    return p


def _no_source_reason(execution: dict[str, Any]) -> str:
    code = execution.get("code") or {}
    if (execution.get("attributes") or {}).get(sc.CODE_SOURCE + sc.TRUNCATED_SUFFIX) == "true":
        return "the execution's source code was larger than the payload cap when it ran, so it was not recorded"
    if code.get("function"):
        return ("no source code was recorded for this execution: its location was, but code capture was "
                "off when it ran (EXECLOG_CAPTURE_CODE=false or capture_code=False), so there is nothing "
                "to re-execute. "
                "The context and outputs below are what the log holds.")
    origin = (execution.get("resource") or {}).get("telemetry.sdk.name") or "another instrumentation"
    return (f"no source code was recorded for this execution: its spans come from {origin}, which "
            "records what ran (names, inputs, outputs, timings) but not the code, so there is nothing "
            "to re-execute. The context and outputs below are what the log holds. To get a file that "
            "re-executes, run the call inside a function decorated with @agent or @automation (or a "
            "`with agent(...)` block): its code is recorded, and calls such as graph.invoke(...) are "
            "answered from the log.")


def _input_reason(execution: dict[str, Any]) -> str:
    _, _, truncated = payload_parts(execution.get("input"))
    if truncated:
        return "the logged input was cut at the payload cap, so the code cannot be re-run with the real input"
    return ""


def _code_blocks(p: ReplayPlan, scope: _Scope, log: _StepLog) -> list[str]:
    """The code section: imports, stand-ins, constants, the recorded helpers, then the root."""
    blocks: list[str] = []
    import_lines, constant_lines = context_lines(scope.context, p.notes)
    if import_lines:
        blocks.append("\n".join(dict.fromkeys(import_lines)) + "\n")
    blocks.append(_stand_ins(p, scope, log))
    if constant_lines:
        blocks.append("\n".join(constant_lines) + "\n")
    # Later-discovered helpers are what earlier ones use (even at definition time, as decorators): first.
    blocks += [_helper(p, d, scope, log) for d in reversed(scope.definitions)]
    assert p.root is not None
    blocks.append(p.root.text)
    return blocks


def _stand_ins(p: ReplayPlan, scope: _Scope, log: _StepLog) -> str:
    """No-op stand-ins for the SDK's names; library objects answered from the log or unavailable."""
    taken = set(scope.external) | {x["name"] for x in scope.definitions} | set(scope.imports)
    lines = [f"{name} = _SdkStandIn({name!r})" for name in sorted(scope.sdk - taken)]
    for name, what in scope.external.items():
        calls = log.calls_for(name)
        if calls is not None:
            lines.append(f"{name} = _logged_step({name!r}, LOGGED_CALLS[{name!r}])")
            p.logged_calls[name] = calls
        else:
            lines.append(f"{name} = _Unavailable({name!r}, {what!r}, {scope.external_kind[name]!r})")
    return "# The execlog SDK and objects from outside the standard library.\n" + "\n".join(lines) + "\n"


def _helper(p: ReplayPlan, d: dict[str, Any], scope: _Scope, log: _StepLog) -> str:
    """A recorded helper's code; a step among them is answered from the log (its code stays, for editing)."""
    name = d["name"]
    fn_key = f"fn:{d.get('function', '')}@{d.get('line', '')}"
    is_step = log.has(fn_key) or bool(d.get("decorated") and log.has("name:" + name))
    try:
        # A step answered from the log is replaced anyway: only standard-library decorators stay.
        parsed = definition(str(d.get("source", "")), scope.stdlib_keep if is_step else scope.keep)
    except SourceRejected as exc:
        p.notes.append(f"{name} could not be included: {exc}.")
        return f"{name} = _Unavailable({name!r}, 'code the log could not include')\n"
    if parsed.bases & (scope.sdk | set(scope.external)):
        # A subclass of a library class cannot be defined without the library: it stands in as one.
        return f"{name} = _Unavailable({name!r}, {'a subclass of a library class'!r}, 'class')\n"
    text = parsed.text
    if parsed.name != name:
        text += f"{name} = {parsed.name}\n"
    # A decorated helper may be a step (matched by function, else by name); a plain one only by function.
    calls = log.calls_for(name, fn_key) if is_step else None
    if calls is not None:
        p.logged_calls[name] = calls
        text += (f"{name} = _logged_step({name!r}, LOGGED_CALLS[{name!r}], original={name})"
                 f"  # answered from the log; delete this line to run the code above\n")
    return text


def _read_code(p: ReplayPlan, source: str, scope: _Scope, log: _StepLog) -> None:
    """What the recorded code reads: its `with step("name")` blocks (answered from the log by step
    name), environment variables, and whether the execution is the function or a block inside it."""
    step_names: set[str] = set()
    for text in [source, *(str(d.get("source", "")) for d in scope.definitions)]:
        try:
            tree = ast.parse(text.replace("\r\n", "\n"))
        except (SyntaxError, ValueError):
            continue
        names, decorated, has_block = _sdk_calls(tree, set(scope.sdk))
        step_names |= names
        p.environment |= _environment_names(tree)
        if text is source and has_block and not decorated:
            p.mode = "block"
            assert p.root is not None
            p.arguments = block_arguments(tree, set(scope.sdk), p.root.params)
    for name in sorted(step_names):
        calls = log.calls_for(name)
        if calls:
            p.logged_blocks[name] = calls


def _logged_children(execution: dict[str, Any], scope: _Scope, log: _StepLog) -> list[dict[str, Any]]:
    """Methods of library objects (a LangGraph graph, an API client) that ran as steps of their own
    answer, in order, from the execution's direct steps no other stand-in took."""
    if not {"instance", "module"} & set(scope.external_kind.values()):
        return []
    children = [{"step": str(st.get("name", "")), **step_call(st)} for st in execution.get("steps") or []
                if st.get("depth", 0) == 0 and st.get("span_id") not in log.claimed]
    return [c for c in children if c.get("output") is not None or c.get("error")]


def compare_note(execution: dict[str, Any]) -> str:
    """Why the replay's outcome cannot be compared with the logged one ("" when it can)."""
    _, output_present, output_truncated = payload_parts(execution.get("output"))
    status = execution.get("status")
    if status in sc.LIVE_STATUSES:
        return f"the execution was {status} when this file was made, so it has no final output yet"
    if output_truncated:
        return "the logged output was cut at the payload cap"
    if not output_present and status not in sc.FAILED_STATUSES:
        return "no output was logged for this execution"
    return ""
