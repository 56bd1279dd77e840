"""The execution and step the running code is inside (context variables, so async-safe)."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from execlog_otel.sdk.executions import Execution
    from execlog_otel.sdk.steps import Step

CURRENT_EXECUTION: contextvars.ContextVar[Execution | None] = contextvars.ContextVar(
    "execlog_execution", default=None)
CURRENT_STEP: contextvars.ContextVar[Step | None] = contextvars.ContextVar("execlog_step", default=None)


def current_execution() -> Execution | None:
    """The execution the calling code runs in, or None."""
    return CURRENT_EXECUTION.get()


def current_step() -> Step | None:
    """The innermost step the calling code runs in, or None."""
    return CURRENT_STEP.get()


def error_text(exc: BaseException) -> str:
    """``Type: message``, the execution's validation message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
