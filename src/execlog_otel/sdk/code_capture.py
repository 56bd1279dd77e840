"""What the SDK records about the code an execution or step ran (for Download Code).

``code_attributes(fn)`` returns the ``code.*`` attributes (qualified name, file,
line) and the function's source. Results are cached per function: the
cost is paid once per function, not per call.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from execlog_otel import semconv as sc


@functools.lru_cache(maxsize=4096)
def _code_attributes(fn: Callable[..., Any], with_source: bool) -> tuple[tuple[str, str], ...]:
    target = inspect.unwrap(fn)
    attrs: dict[str, str] = {
        sc.CODE_FUNCTION_NAME: f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}".lstrip("."),
    }
    code = getattr(target, "__code__", None)
    if code is not None:
        attrs[sc.CODE_FILE_PATH] = code.co_filename
        attrs[sc.CODE_LINE_NUMBER] = str(code.co_firstlineno)
    if with_source:
        try:
            attrs[sc.CODE_SOURCE] = textwrap.dedent(inspect.getsource(target))
        except (OSError, TypeError):
            pass  # built-ins, REPL code: nothing to show, the replay file says so
    return tuple(attrs.items())


def code_attributes(fn: Callable[..., Any], capture_source: bool = True) -> dict[str, str]:
    """``code.*`` attributes of ``fn`` (and its source when ``capture_source``)."""
    try:
        return dict(_code_attributes(fn, capture_source))
    except TypeError:  # unhashable callable
        return dict(_code_attributes.__wrapped__(fn, capture_source))
