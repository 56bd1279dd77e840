"""The one decorator wrapper of the SDK: a function run as an execution or a step, once per call.

``@agent``, ``@automation`` and ``@step`` differ only in what they open around a call;
the wrapping is the same: generators refused (their body runs after the call returns),
sync and async functions, the return value recorded as the output, an exception ending
the run and re-raised unchanged (the run decides what it means: ``sys.exit(0)`` is a
Success, any other exception a failure).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from execlog_otel.sdk.code_capture import code_attributes
from execlog_otel.sdk.runtime import RUNTIME

F = TypeVar("F", bound=Callable[..., Any])
CodeAttributes = tuple[tuple[str, str], ...]


class Run(Protocol):
    """What a wrapper needs of the execution or step it opens per call."""

    def record_output(self, value: Any) -> None: ...

    def end(self, error: BaseException | None = None) -> Any: ...

    def time_budget(self) -> AbstractAsyncContextManager[Any]: ...


def signature_of(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def bound_input(sig: inspect.Signature | None, args: tuple, kwargs: dict) -> dict[str, Any]:
    """A call's arguments by parameter name (defaults applied): the input a decorated run records."""
    if sig is None:
        return {"args": list(args), "kwargs": kwargs}
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), "kwargs": kwargs}
    bound.apply_defaults()
    return dict(bound.arguments)


def reject_generators(fn: Callable[..., Any], what: str) -> None:
    """A generator's body runs after the call returns: a span around the call would record nothing of it."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"@{what} cannot decorate the generator function {fn.__qualname__!r}: its body runs "
                        f"while it is iterated; use 'with {what}(...)' inside it instead")


def code_of(fn: Callable[..., Any]) -> Callable[[], CodeAttributes]:
    """``fn``'s code attributes, computed once per SDK configuration (``configure()`` may change them)."""
    cache: list[Any] = [None, ()]  # [runtime generation, code attributes]

    def code() -> CodeAttributes:
        generation = RUNTIME.generation
        if cache[0] != generation:
            s = RUNTIME.settings
            cache[1] = tuple(code_attributes(fn, capture_source=s.capture_code,
                                             max_bytes=s.payload_cap_bytes).items())
            cache[0] = generation
        return cache[1]

    return code


def wrap(fn: F, what: str, open_run: Callable[[tuple, dict], Run]) -> F:
    """``fn`` with ``open_run(args, kwargs)`` (a started run) around each call."""
    reject_generators(fn, what)
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = open_run(args, kwargs)
            try:
                async with run.time_budget():
                    result = await fn(*args, **kwargs)
                run.record_output(result)
            except BaseException as exc:
                run.end(exc)
                raise
            run.end()
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        run = open_run(args, kwargs)
        try:
            result = fn(*args, **kwargs)
            run.record_output(result)
        except BaseException as exc:
            run.end(exc)
            raise
        run.end()
        return result

    return sync_wrapper  # type: ignore[return-value]
