"""The execution and step the running code is inside (context variables, so async-safe), and how an
exception that ends one is recorded."""

from __future__ import annotations

import contextvars
import logging
import signal
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from execlog_otel.sdk.executions import Execution
    from execlog_otel.sdk.steps import Step

log = logging.getLogger(__name__)

CURRENT_EXECUTION: contextvars.ContextVar[Execution | None] = contextvars.ContextVar(
    "execlog_execution", default=None)
CURRENT_STEP: contextvars.ContextVar[Step | None] = contextvars.ContextVar("execlog_step", default=None)

# What Python's own traceback prints for an exception whose __str__ raises.
STR_FAILED = "<exception str() failed>"


def current_execution() -> Execution | None:
    """The execution the calling code runs in, or None."""
    return CURRENT_EXECUTION.get()


def current_step() -> Step | None:
    """The innermost step the calling code runs in, or None."""
    return CURRENT_STEP.get()


def type_name(value: Any) -> str:
    """The name of ``value``'s type, for text that must be written whatever the value is."""
    try:
        name = type(value).__qualname__
        return name if isinstance(name, str) else "object"
    except Exception:  # noqa: BLE001 - a metaclass can make even this raise
        return "object"


def unrepresentable(value: Any) -> str:
    """The stand-in recorded for a user object whose ``str()``/``repr()`` raises."""
    return f"<unrepresentable {type_name(value)}>"


def safe_str(value: Any) -> str:
    """``str(value)``, or the stand-in when the user's ``__str__`` raises (recording must not)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - the user's object is broken, not the recording
        return unrepresentable(value)


def error_text(exc: BaseException) -> str:
    """``Type: message``, the execution's validation message. Never raises: the exception being recorded
    is the user's, and it must reach them unchanged, even when its ``__str__`` raises. An exit from a signal's
    handler names the signal."""
    if isinstance(exc, SystemExit) and (signal_name := exit_signal(exc)) is not None:
        return f"{signal_name}: the program was told to stop and exited ({exc.code!r}) before the run ended"
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = STR_FAILED
    name = type_name(exc)
    return f"{name}: {message}" if message else name


def clean_exit(exc: BaseException | None) -> bool:
    """``sys.exit()`` / ``sys.exit(0)``: the program ending as it meant to, which ends a run Success (the
    exception still propagates). Any other exit code is a failure, and so is KeyboardInterrupt: the run
    was cut off before its end; so is an exit 0 from a signal's handler (``exit_signal``: a worker told to
    stop by SIGTERM ends gracefully, but the run it was in did not finish)."""
    if not isinstance(exc, SystemExit) or exit_signal(exc) is not None:
        return False
    code = exc.code
    if code is None:
        return True
    # Python exits 0 for an int (bool included) equal to 0; anything else (a message, 1, ...) is non-zero.
    try:
        return isinstance(code, int) and int(code) == 0
    except Exception:  # noqa: BLE001 - an int subclass with a broken __int__
        return False


_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGBREAK")


def exit_signal(exc: BaseException) -> str | None:
    """The name of the signal whose Python handler raised ``exc`` (a frame of its traceback runs the handler
    installed for it), or None."""
    handlers = {}
    for name in _SIGNALS:
        number = getattr(signal, name, None)
        try:
            handler = signal.getsignal(number) if number is not None else None
        except (ValueError, OSError):
            continue
        code = getattr(getattr(handler, "__func__", handler), "__code__", None)
        if code is not None:
            handlers.setdefault(code, name)
    tb = exc.__traceback__
    while tb is not None and handlers:
        if (name := handlers.get(tb.tb_frame.f_code)) is not None:
            return name
        tb = tb.tb_next
    return None


def record_error(span: Any, exc: BaseException) -> None:
    """``span.record_exception(exc)``, which reads ``str(exc)``: an exception whose ``__str__`` raises is
    recorded with what can be read of it. Never raises."""
    try:
        span.record_exception(exc)
        return
    except Exception:  # noqa: BLE001
        pass
    try:
        module = type(exc).__module__
        qualname = type_name(exc)
        try:
            stacktrace = "".join(traceback.format_exception(exc))
        except Exception:  # noqa: BLE001
            stacktrace = ""
        span.add_event("exception", {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins" else qualname,
            "exception.message": STR_FAILED, "exception.stacktrace": stacktrace, "exception.escaped": "False"})
    except Exception:  # noqa: BLE001 - the status and message are still recorded by the caller
        log.debug("execlog: could not record an exception of type %s", type_name(exc), exc_info=True)
