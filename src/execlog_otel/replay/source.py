"""Recorded source code made runnable in a replay file.

A span's source is untrusted text: it is accepted only when it parses as exactly
one function or class definition, so nothing else can be slipped into the
file's top level. Decorators that belong to the execlog SDK or to libraries the
replay does not have are removed (and named in a one-line, inert comment);
decorators from the standard library or from the recorded helpers stay.
"""

from __future__ import annotations

import ast
import json
import keyword
from dataclasses import dataclass

DEFINITION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SourceRejected(ValueError):
    """The recorded source cannot be placed in a replay file; the message says why."""


@dataclass(frozen=True)
class Definition:
    name: str  # the name the definition binds
    text: str  # runnable text, decorators handled, ends with a newline
    is_async: bool
    params: tuple[str, ...]
    bases: frozenset[str] = frozenset()  # root names of a class's bases


def inert(text: str) -> str:
    """Any text as a one-line, ASCII-only JSON string: safe inside a comment."""
    return json.dumps(str(text), ensure_ascii=True)


def is_identifier(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def is_module_path(name: object) -> bool:
    return isinstance(name, str) and bool(name) and all(is_identifier(p) for p in name.split("."))


def _decorator_root(node: ast.expr) -> str | None:
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def definition(source: str, keep_decorators: set[str]) -> Definition:
    """Parse ``source`` as one definition; keep only decorators whose root name is in ``keep_decorators``."""
    if not isinstance(source, str) or not source.strip():
        raise SourceRejected("no source was recorded")
    if "\x00" in source:
        raise SourceRejected("the recorded source contains a NUL character")
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        raise SourceRejected(f"the recorded source does not parse ({exc.__class__.__name__}: {exc})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], DEFINITION_TYPES):
        raise SourceRejected("the recorded source is not exactly one function or class definition")
    node = tree.body[0]
    lines = text.splitlines(keepends=True)
    head: list[str] = []
    for dec in node.decorator_list:
        segment = ast.get_source_segment(text, dec) or ""
        if _decorator_root(dec) in keep_decorators:
            head.append("@" + segment + "\n")
        else:
            head.append(f"# removed for the replay: @{inert(' '.join(segment.split()))}\n")
    body = "".join(lines[node.lineno - 1:])
    params: tuple[str, ...] = ()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        params = tuple(p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs])
    bases = frozenset(filter(None, (_decorator_root(b) for b in node.bases))) \
        if isinstance(node, ast.ClassDef) else frozenset()
    return Definition(name=node.name, text="".join(head) + body,
                      is_async=isinstance(node, ast.AsyncFunctionDef), params=params, bases=bases)
