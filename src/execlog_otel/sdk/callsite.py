"""Code location of a ``with automation(...)`` / ``with step(...)`` block: its caller's frame.

Decorated functions go through ``code_capture.code_attributes(fn)``; a context
manager has no function of its own, so the block is located by the frame that
entered it (function name, file, line of the ``with``) and, when source capture
is on, the source of the enclosing function. Cached per (code object, line).
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from types import CodeType

from execlog_otel import semconv as sc
from execlog_otel.sdk.runtime import RUNTIME


@functools.lru_cache(maxsize=4096)
def _location(code: CodeType, line: int, module: str, with_source: bool) -> tuple[tuple[str, str], ...]:
    qualname = getattr(code, "co_qualname", code.co_name)
    attrs = {
        sc.CODE_FUNCTION_NAME: f"{module}.{qualname}" if module else qualname,
        sc.CODE_FILE_PATH: code.co_filename,
        sc.CODE_LINE_NUMBER: str(line),
    }
    if with_source and code.co_name != "<module>":
        try:
            attrs[sc.CODE_SOURCE] = textwrap.dedent(inspect.getsource(code))
        except Exception:  # noqa: BLE001 - OSError, TypeError, or tokenize errors when the file changed on disk
            pass
    return tuple(attrs.items())


# Everything frame_attributes derives, per (code object, line, with source), for the runtime
# generation in _SITES_GENERATION: one dict lookup per block entered instead of several calls.
_SITES: dict[tuple[CodeType, int, bool], tuple[tuple[str, str], ...]] = {}
_SITES_GENERATION = [-1]
_MAX_SITES = 4096


def frame_attributes(frame, with_source: bool) -> tuple[tuple[str, str], ...]:
    """``code.*`` attributes for the frame entering a block (``sys._getframe(1)`` of ``__enter__``)."""
    if frame is None:
        return ()
    key = (frame.f_code, frame.f_lineno, with_source)
    if _SITES_GENERATION[0] != RUNTIME.generation:  # configure() changed the settings
        _SITES.clear()
        _SITES_GENERATION[0] = RUNTIME.generation
    else:
        attrs = _SITES.get(key)
        if attrs is not None:
            return attrs
    attrs = _site_attributes(frame, with_source, RUNTIME.settings.payload_cap_bytes)
    if len(_SITES) < _MAX_SITES:
        _SITES[key] = attrs
    return attrs


def _site_attributes(frame, with_source: bool, max_bytes: int) -> tuple[tuple[str, str], ...]:
    attrs = _location(frame.f_code, frame.f_lineno, frame.f_globals.get("__name__", ""), with_source)
    if with_source and attrs and attrs[-1][0] == sc.CODE_SOURCE:
        # What the enclosing function needs to re-run (Download Code); cached per code object.
        from execlog_otel.sdk.code_capture import block_context_attributes

        extra = block_context_attributes(frame.f_code, frame.f_globals, attrs[-1][1], max_bytes)
        attrs = attrs + tuple(extra.items())
    return attrs
