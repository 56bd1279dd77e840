"""What the SDK records about the code an execution or step ran (for Download Code).

``code_attributes(fn)`` returns the ``code.*`` attributes (qualified name, file,
line), the function's source (``execlog.code.source``) and, as JSON in
``execlog.code.context``, what that source needs from its module to run again
elsewhere: standard-library imports, literal constants, the source of the
helper functions and classes it calls (followed transitively), which names are
the execlog SDK, and which are objects from outside the standard library (the
replay answers those from the log or says it cannot). Results are cached per
function: the cost is paid once per function, not per call. Capturing never
raises into the caller's code.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import logging
import math
import re
import site
import sys
import sysconfig
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from execlog_otel import semconv as sc

DEFAULT_MAX_BYTES = 64 * 1024  # Settings.payload_cap_bytes default
MAX_DEFINITIONS = 40
MAX_LITERAL_CHARS = 4096
CONTEXT_VERSION = 1

_SDK_PACKAGE = "execlog_otel"


def _library_roots() -> tuple[str, ...]:
    roots = set()
    try:
        roots.update(site.getsitepackages())
    except AttributeError:  # some virtualenv builds lack it
        pass
    try:
        roots.add(site.getusersitepackages())
    except AttributeError:
        pass
    paths = sysconfig.get_paths()
    roots.update(p for p in (paths.get("stdlib"), paths.get("platstdlib"), paths.get("purelib"),
                             paths.get("platlib")) if p)
    return tuple(str(Path(r).resolve()) for r in roots if r)


_LIBRARY_ROOTS = _library_roots()


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _is_stdlib(module: str) -> bool:
    return _top(module) in sys.stdlib_module_names and _top(module) != "__main__"


def _is_sdk(module: str) -> bool:
    return _top(module) == _SDK_PACKAGE


def _is_user_module(module: str) -> bool:
    """Code of the application (not the standard library, not an installed package, not the SDK)."""
    if not module or _is_stdlib(module) or _is_sdk(module):
        return False
    mod = sys.modules.get(module)
    path = getattr(mod, "__file__", None)
    if module == "__main__" or path is None:
        return module == "__main__"
    resolved = str(Path(path).resolve())
    if "site-packages" in resolved or "dist-packages" in resolved:
        return False
    return not any(resolved.startswith(root + "/") for root in _LIBRARY_ROOTS)


def _source(obj: Any) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError, IndentationError):
        return None  # built-ins, REPL code, generated code: nothing to show


def _loaded_names(source: str) -> list[str]:
    """Names the source reads (in first-use order); locals that shadow nothing are filtered later."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    seen: dict[str, None] = {}
    bound: set[str] = set()
    declared_global: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                seen.setdefault(node.id, None)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
    # A name the code binds itself (parameter, assignment) is a local, not a module global.
    return [n for n in seen if n not in bound or n in declared_global]


def _literal(value: Any, depth: int = 0) -> bool:
    if depth > 6:
        return False
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return len(value) <= 200 and all(_literal(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 200 and all(_literal(k, depth + 1) and _literal(v, depth + 1)
                                         for k, v in value.items())
    if isinstance(value, set):  # repr "set()" of an empty set is not a literal; the replay handles it
        return len(value) <= 200 and all(_literal(v, depth + 1) for v in value)
    return False


def _literal_text(name: str, value: Any) -> str:
    """``repr`` of a module constant with secrets masked as payloads are (``EXECLOG_REDACT_KEYS``): a
    constant named like a secret (``API_KEY``) and values under secret-looking keys become ``"***"``."""
    from execlog_otel.sdk.loggable import MASK, is_secret_key
    from execlog_otel.sdk.runtime import RUNTIME

    fragments = tuple(RUNTIME.settings.redact_keys)

    def masked(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: (MASK if isinstance(k, str) and is_secret_key(k, fragments) and x not in (None, "")
                        else masked(x)) for k, x in v.items()}
        if isinstance(v, (list, tuple, set)):
            return type(v)(masked(x) for x in v)
        return v

    if is_secret_key(name, fragments) and value not in (None, "", 0):
        return repr(MASK)
    return repr(masked(value))


def _type_name(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


class _ContextBuilder:
    """Walks from a function to everything its source reads from module globals."""

    def __init__(self, max_bytes: int):
        self.budget = max_bytes
        self.imports: list[dict[str, str]] = []
        self.constants: list[dict[str, Any]] = []
        self.definitions: list[dict[str, Any]] = []
        self.sdk: list[str] = []
        self.external: list[dict[str, str]] = []
        self.omitted: list[dict[str, str]] = []
        self.done: set[str] = set()
        self.namespace: dict[str, Any] = {}
        self.mutable: list[tuple[dict[str, Any], str, str]] = []  # (module globals, name, repr when captured)

    def _spend(self, text: str) -> bool:
        cost = len(text.encode("utf-8", "replace"))
        if cost > self.budget:
            return False
        self.budget -= cost
        return True

    def walk(self, source: str, namespace: dict[str, Any]) -> None:
        for name in _loaded_names(source):
            if name in self.done:
                continue
            if name not in namespace:
                continue  # a local, a parameter or a builtin
            self.done.add(name)
            outer, self.namespace = self.namespace, namespace
            try:
                self.add(name, namespace[name])
            finally:
                self.namespace = outer

    def add(self, name: str, value: Any) -> None:
        """Record a global the recorded code reads, by what it is (first kind that takes it)."""
        if inspect.ismodule(value):
            self._add_module(name, value)
        elif (inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value)) \
                and getattr(value, "__module__", None):
            self._add_callable(name, value)
        elif isinstance(value, re.Pattern) and isinstance(value.pattern, str):
            entry = {"name": name, "kind": "regex", "pattern": value.pattern, "flags": int(value.flags)}
            self._add_constant(name, entry, value.pattern)
        elif isinstance(value, logging.Logger):
            self.constants.append({"name": name, "kind": "logger", "logger": value.name})
        elif _literal(value):
            self._add_literal(name, value)
        else:
            self.external.append({"name": name, "type": _type_name(value), "kind": "instance"})

    def _add_module(self, name: str, value: Any) -> None:
        module = value.__name__
        if _is_stdlib(module):
            self.imports.append({"name": name, "module": module})
        elif _is_sdk(module):
            self.sdk.append(name)
        else:
            self.external.append({"name": name, "type": f"module {module}", "kind": "module"})

    def _add_callable(self, name: str, value: Any) -> None:
        module = value.__module__
        qualname = getattr(value, "__qualname__", "")
        if _is_sdk(module):
            self.sdk.append(name)
        elif _is_stdlib(module) and "." not in qualname and "<" not in qualname \
                and getattr(sys.modules.get(module), qualname, None) is value:
            self.imports.append({"name": name, "module": module, "attr": qualname})
        else:
            target = inspect.unwrap(value) if inspect.isfunction(value) else value
            if _is_user_module(getattr(target, "__module__", "") or ""):
                self.add_definition(name, value, target)
            else:
                self.external.append({"name": name, "type": f"{module}.{qualname}",
                                      "kind": "class" if inspect.isclass(value) else "function"})

    def _add_constant(self, name: str, entry: dict[str, Any], text: str) -> bool:
        if self._spend(text):
            self.constants.append(entry)
            return True
        self.omitted.append({"name": name, "reason": "larger than the payload cap"})
        return False

    def _add_literal(self, name: str, value: Any) -> None:
        text = _literal_text(name, value)
        if len(text) > MAX_LITERAL_CHARS:
            self.omitted.append({"name": name, "reason": "larger than the payload cap"})
        elif self._add_constant(name, {"name": name, "kind": "literal", "literal": text}, text) \
                and isinstance(value, (list, dict, set)):  # state that may change between calls
            self.mutable.append((self.namespace, name, repr(value)))

    def add_definition(self, name: str, value: Any, target: Any) -> None:
        if len(self.definitions) >= MAX_DEFINITIONS:
            self.omitted.append({"name": name, "reason": f"more than {MAX_DEFINITIONS} helper definitions"})
            return
        source = _source(target)
        if source is None:
            self.external.append({"name": name, "type": f"{target.__module__}.{target.__qualname__}"})
            return
        if not self._spend(source):
            self.omitted.append({"name": name, "reason": "larger than the payload cap"})
            return
        self.definitions.append({
            "name": name,
            "function": f"{target.__module__}.{target.__qualname__}",
            "kind": "class" if inspect.isclass(target) else "function",
            "decorated": target is not value,
            # The line a decorated step's spans carry (code.line.number), to tell them from `with step()` blocks.
            "line": getattr(getattr(target, "__code__", None), "co_firstlineno", 0),
            "source": source,
        })
        if inspect.isclass(target):
            namespace = vars(sys.modules[target.__module__]) if target.__module__ in sys.modules else {}
        else:
            namespace = getattr(target, "__globals__", {})
        self.walk(source, namespace)

    def result(self) -> dict[str, Any]:
        return {"v": CONTEXT_VERSION, "imports": self.imports, "constants": self.constants,
                "definitions": self.definitions, "sdk": self.sdk, "external": self.external,
                "omitted": self.omitted}


def _context(target: Callable[..., Any], source: str, max_bytes: int) -> tuple[str | None, tuple]:
    namespace = getattr(target, "__globals__", None)
    if not isinstance(namespace, dict):
        return None, ()
    builder = _build(source, namespace, getattr(target, "__name__", ""), max_bytes)
    result = builder.result()
    result["first_line"] = getattr(getattr(target, "__code__", None), "co_firstlineno", 0)
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False), tuple(builder.mutable)


def _build(source: str, namespace: dict[str, Any], own_name: str, max_bytes: int) -> _ContextBuilder:
    builder = _ContextBuilder(max_bytes - len(source.encode("utf-8", "replace")))
    builder.done.add(own_name)  # recursion refers to itself
    builder.walk(source, namespace)
    return builder


def _refresh_mutable(context: str, mutable: tuple) -> str:
    """The context with module-level lists/dicts/sets as they are now (they may have changed since the
    function was first captured); the JSON is rebuilt only when one did."""
    changed: dict[str, str] = {}
    for namespace, name, captured in mutable:
        value = namespace.get(name)
        try:
            if not isinstance(value, (list, dict, set)) or len(value) > 200:
                continue  # rebound to something else, or grown past what is recorded: keep what was captured
            if repr(value) == captured:  # the common case: unchanged, one small repr
                continue
        except Exception:  # noqa: BLE001 - a value whose repr fails is not recorded
            continue
        if not _literal(value):
            continue
        text = _literal_text(name, value)
        if len(text) <= MAX_LITERAL_CHARS:
            changed[name] = text
    if not changed:
        return context
    ctx = json.loads(context)
    for const in ctx.get("constants", []):
        if const.get("name") in changed and const.get("kind") == "literal":
            const["literal"] = changed[const["name"]]
    return json.dumps(ctx, separators=(",", ":"), ensure_ascii=False)


# (code object, cap) -> context JSON: a code object belongs to one module, so its globals are fixed.
_BLOCK_CONTEXTS: dict[tuple[CodeType, int], str] = {}


def block_context_attributes(code: CodeType, namespace: dict[str, Any], source: str,
                             max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, str]:
    """``execlog.code.context`` for the function enclosing a ``with agent()/automation()/step()`` block
    (``code`` its code object, ``namespace`` its globals, ``source`` its recorded source). Never raises."""
    try:
        if not source or len(source.encode("utf-8", "replace")) > max_bytes:
            return {}
        key = (code, max_bytes)
        context = _BLOCK_CONTEXTS.get(key)
        if context is None:
            result = _build(source, namespace, code.co_name, max_bytes).result()
            # The source starts at this line; the block's own line (code.line.number) is further down.
            result["first_line"] = code.co_firstlineno
            context = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
            if len(_BLOCK_CONTEXTS) < 4096:
                _BLOCK_CONTEXTS[key] = context
        return {sc.CODE_CONTEXT: context}
    except Exception:  # noqa: BLE001 - capturing must never break the user's code
        return {}


@functools.lru_cache(maxsize=4096)
def _code_attributes(fn: Callable[..., Any], with_source: bool, max_bytes: int) -> tuple[tuple[tuple[str, str], ...],
                                                                                         tuple]:
    target = inspect.unwrap(fn)
    attrs: dict[str, str] = {
        sc.CODE_FUNCTION_NAME: f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}".lstrip("."),
    }
    code = getattr(target, "__code__", None)
    if code is not None:
        attrs[sc.CODE_FILE_PATH] = code.co_filename
        attrs[sc.CODE_LINE_NUMBER] = str(code.co_firstlineno)
    mutable: tuple = ()
    if with_source:
        source = _source(target)
        if source is not None and len(source.encode("utf-8", "replace")) <= max_bytes:
            attrs[sc.CODE_SOURCE] = source
            try:
                context, mutable = _context(target, source, max_bytes)
            except Exception:  # noqa: BLE001 - capturing must never break the user's code
                context = None
            if context is not None:
                attrs[sc.CODE_CONTEXT] = context
        elif source is not None:
            attrs[sc.CODE_SOURCE + sc.TRUNCATED_SUFFIX] = "true"
            attrs[sc.CODE_SOURCE + sc.ORIGINAL_SIZE_SUFFIX] = str(len(source.encode("utf-8", "replace")))
    return tuple(attrs.items()), mutable


def code_attributes(fn: Callable[..., Any], capture_source: bool = True,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, str]:
    """``code.*`` attributes of ``fn``; with ``capture_source``, its source and what the source needs.

    ``max_bytes`` bounds the source plus its context (the payload cap). Never raises."""
    try:
        try:
            attrs, mutable = _code_attributes(fn, capture_source, max_bytes)
        except TypeError:  # unhashable callable
            attrs, mutable = _code_attributes.__wrapped__(fn, capture_source, max_bytes)
        result = dict(attrs)
        if mutable and sc.CODE_CONTEXT in result:
            result[sc.CODE_CONTEXT] = _refresh_mutable(result[sc.CODE_CONTEXT], mutable)
        return result
    except Exception:  # noqa: BLE001 - capturing must never break the user's code
        return {}
