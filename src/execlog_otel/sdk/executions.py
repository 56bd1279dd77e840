"""``agent()`` and ``automation()``: one execution = one trace with a root span.

Usable as context managers (``with`` / ``async with``) and decorators (sync and
async functions). The root span carries kind, name, input/output JSON, status
and the reference fields (event, target, request id, ...). While the root is
open, zero-length *state marker* spans (``execlog.state``) carry the live state
(Running, Queued, Pending, Paused, and Rejected once the time budget is spent)
so the listing shows it before the root ends; they are exported within the
flush interval like any ended span.

Final status: an exception -> Failed (type and message as the validation
message; the exception is re-raised unchanged); past ``timeout`` -> Rejected;
an automation with failed or skipped steps -> Partially Executed; else Success.

Time budget (``timeout=`` seconds): at the deadline a Rejected marker is emitted
at once (a watchdog thread), and the execution ends Rejected whenever its code
returns. Async executions are also cancelled at the deadline (``TimeoutError``
is raised to the caller, as ``asyncio.timeout`` does); synchronous code cannot
be interrupted from outside, so it runs to its end.

An execution started inside another one is recorded as a step of the outer one
(one trace per execution). A new execution always starts a new trace; the span
that was current (e.g. an HTTP request) is linked, not made its parent.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanContext, StatusCode, TraceFlags
from opentelemetry.trace import Status as OtelStatus

from execlog_otel import semconv as sc
from execlog_otel.retry.proof import marker_proof, record_root_proof
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import current_attempt
from execlog_otel.sdk.callsite import frame_attributes
from execlog_otel.sdk.context import CURRENT_EXECUTION, safe_str
from execlog_otel.sdk.runs import FIELDS, LIVE_STATES, UNSET, NestedRun, RootRun, RunSpec, SpanRun
from execlog_otel.sdk.runtime import RUNTIME
from execlog_otel.sdk.steps import llm_attributes
from execlog_otel.sdk.wrapping import bound_input, code_of, signature_of, wrap

F = TypeVar("F", bound=Callable[..., Any])
_UNSET: Any = UNSET

INITIAL_STATES = (sc.Status.RUNNING, sc.Status.QUEUED, sc.Status.PENDING)
FINAL_STATES = frozenset({sc.Status.SUCCESS, sc.Status.FAILED, sc.Status.PARTIALLY_EXECUTED, sc.Status.REJECTED})
__all__ = ["FIELDS", "FINAL_STATES", "INITIAL_STATES", "LIVE_STATES", "Execution", "agent", "automation",
           "fingerprint", "record_detached_state", "retry_target_of"]


def fingerprint(trigger_config: Any) -> str:
    """sha256 of the canonical JSON of a trigger configuration (also of an empty one). Never raises: it
    runs when an automation is decorated or started, which must not fail because of the log."""
    config = trigger_config if trigger_config is not None else {}
    try:
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                               default=safe_str)
    except (TypeError, ValueError, RecursionError):
        # Keys that cannot be sorted together (1 and "a"), a cycle: the config's text as written is
        # still the same for the same config.
        canonical = "repr:" + safe_str(config)
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown execution field(s) {', '.join(sorted(unknown))}; "
                        f"expected {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key == "executed_action_ids":
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise TypeError("executed_action_ids: expected a list of ids")
            out[FIELDS[key]] = json.dumps([safe_str(v) for v in value])
        else:
            out[FIELDS[key]] = safe_str(value)  # a user object whose __str__ raises must not crash the call
    return out


def _spec(kind: str, name: str, *, input: Any = _UNSET, trigger: str | None = None, trigger_config: Any = None,
          timeout: float | None = None, retryable: bool = True, not_retryable_reason: str | None = None,
          status: str = sc.Status.RUNNING, retry_target: str | None = None,
          attributes: dict[str, Any] | None = None, **fields: Any) -> RunSpec:
    """The validated settings of an execution (the errors name the call as the user wrote it)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{kind}(name=...): an execution needs a non-empty name")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"{kind}({name!r}, timeout={timeout!r}): expected a positive number of seconds")
    if status not in INITIAL_STATES:
        raise ValueError(f"{kind}({name!r}, status={status!r}): an execution starts "
                         f"{', '.join(INITIAL_STATES)}")
    return RunSpec(kind=str(kind), name=name, input=input, trigger=trigger,  # plain str values on spans
                   fingerprint=fingerprint(trigger_config) if kind == sc.Kind.AUTOMATION else None,
                   timeout=float(timeout) if timeout is not None else None, retryable=retryable,
                   not_retryable_reason=not_retryable_reason, status=str(sc.Status(status)),
                   retry_target=retry_target, fields=_check_fields(fields), attributes=dict(attributes or {}))


class Execution:
    """One run of an agent or automation. Create with ``agent(...)`` or ``automation(...)``.

    Until it starts it holds its settings; started, it is a ``RootRun`` (its own trace) or,
    inside another execution, a ``NestedRun`` (a step of that one)."""

    def __init__(self, kind: str, name: str, *, input: Any = _UNSET, trigger: str | None = None,
                 trigger_config: Any = None, timeout: float | None = None, retryable: bool = True,
                 not_retryable_reason: str | None = None, status: str = sc.Status.RUNNING,
                 retry_target: str | None = None, attributes: dict[str, Any] | None = None,
                 **fields: Any) -> None:
        # As given: what @-decorating this object runs each call with.
        self._config = dict(input=input, trigger=trigger, trigger_config=trigger_config, timeout=timeout,
                            retryable=retryable, not_retryable_reason=not_retryable_reason, status=status,
                            retry_target=retry_target, attributes=attributes, **fields)
        self._spec = _spec(kind, name, **self._config)
        self._run: RootRun | NestedRun | None = None
        self._decided: tuple[str, str | None] | None = None  # set_status() before the start
        self._start_lock = threading.Lock()
        self._async_budget: Any = None

    # -- identity ---------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self._spec.kind

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def timeout(self) -> float | None:
        return self._spec.timeout

    @property
    def span(self) -> trace.Span:
        return self._run.span if self._run is not None else trace.INVALID_SPAN

    @property
    def execution_id(self) -> str:
        """The execution's id: the first attempt's trace id (32 hex)."""
        if self._run is None:
            attempt = current_attempt()
            return attempt.execution_id if attempt else ""
        retry_of = (getattr(self._run.span, "attributes", None) or {}).get(sc.RETRY_OF)
        return str(retry_of) if retry_of else self.trace_id

    @property
    def trace_id(self) -> str:
        return format(self._run.span.get_span_context().trace_id, "032x") if self._run is not None else ""

    @property
    def root_span_id(self) -> str:
        """Span id of this attempt's root (16 hex), for ``attempt_of(..., first_root_span_id=...)``."""
        return format(self._run.span.get_span_context().span_id, "016x") if self._run is not None else ""

    @property
    def execution_start_ns(self) -> int:
        """Start of the execution (its first attempt), ns since the epoch."""
        return self._run.execution_start_ns if isinstance(self._run, RootRun) else 0

    @property
    def status(self) -> str | None:
        """The current state (live), or the final status once ended."""
        run = self._run
        if run is None:
            return self._decided[0] if self._decided else None
        return run.final[0] if run.final else run.state

    @property
    def ended(self) -> bool:
        return self._run is not None and self._run.ended

    # -- lifecycle ----------------------------------------------------------------
    def set_code(self, attributes: Any) -> Execution:
        """Code location and source attributes (``code.*``) the span starts with; instrumentations that
        know the function set them before ``start()``."""
        self._spec = replace(self._spec, code=tuple(dict(attributes).items()))
        return self

    def start(self) -> Execution:
        with self._start_lock:
            if self._run is not None:
                raise RuntimeError(f"{self.kind} {self.name!r} was already started; each run needs its own "
                                   f"{self.kind}(...) (decorated functions get one per call)")
            outer = CURRENT_EXECUTION.get()
            nested = outer is not None and not outer.ended
            self._run = (NestedRun if nested else RootRun)(self._spec, self)
        self._run.final = self._decided
        self._run.start()
        return self

    def end(self, error: BaseException | None = None) -> str:
        """End the execution (``error``: the exception that ended it); returns the final status."""
        if self._run is None:
            return self.status or ""
        return self._run.end(error)

    def __enter__(self) -> Execution:
        self._spec = self._spec if self._spec.code else replace(
            self._spec, code=frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code))
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.end(exc)
        return False

    async def __aenter__(self) -> Execution:
        self._spec = self._spec if self._spec.code else replace(
            self._spec, code=frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code))
        self.start()
        try:
            self._async_budget = self._running("start").time_budget()
            await self._async_budget.__aenter__()
        except BaseException as exc:  # e.g. asyncio.timeout outside a task: end the run, leave nothing current
            self._async_budget = None
            self.end(exc)
            raise
        return self

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        if self._async_budget is not None:
            try:
                await self._async_budget.__aexit__(exc_type, exc, tb)
            except BaseException as converted:  # the cancellation, turned into TimeoutError
                self.end(converted)
                raise
        self.end(exc)
        return False

    def _running(self, what: str) -> SpanRun:
        run = self._run
        if run is None or run.ended:
            raise RuntimeError(f"{self.kind} {self.name!r}: {what}() needs the execution to be running")
        return run

    # -- live states ----------------------------------------------------------------
    def set_state(self, status: str) -> Execution:
        """Change the live state (Running, Queued, Pending, Paused); visible within the flush interval."""
        status = sc.Status(status)
        if status not in LIVE_STATES:
            raise ValueError(f"set_state({status!r}): live states are {', '.join(sorted(LIVE_STATES))}; "
                             "a final status is decided when the execution ends (or use fail()/set_status())")
        run = self._running("set_state")
        with run.lock:
            run.state = status
            run.emit_state(status)
        return self

    def pause(self, reason: str = "") -> Execution:
        """Paused (a pause step opens, and a Paused marker is emitted) until ``resume()``."""
        run = self._running("pause")
        with run.lock:
            run.pause(reason)
            run.emit_state(sc.Status.PAUSED)
        return self

    def resume(self) -> Execution:
        run = self._running("resume")
        with run.lock:
            run.resume()
            run.emit_state(sc.Status.RUNNING)
        return self

    # -- what the code records ----------------------------------------------------------
    def set_input(self, value: Any) -> Execution:
        """The input: an agent's prompt / instructions, an automation's trigger payload (JSON)."""
        run = self._running("set_input")
        run.set_input(value)
        if run.state in LIVE_STATES:
            run.emit_state(run.state)  # the live row shows the input too
        return self

    def set_output(self, value: Any) -> Execution:
        self._running("set_output").record_output(value)
        return self

    def set_fields(self, **fields: Any) -> Execution:
        """event, target, target_record_id, request_id, triggered_by, raised_action, executed_action_ids."""
        run = self._running("set_fields")
        run.span.set_attributes(_check_fields(fields))
        if run.state in LIVE_STATES:
            run.emit_state(run.state)
        return self

    def set_attribute(self, key: str, value: Any) -> Execution:
        self._running("set_attribute").span.set_attribute(key, value)
        return self

    def record_llm(self, model: str | None = None, input_tokens: int | None = None,
                   output_tokens: int | None = None, **more: Any) -> Execution:
        """Model and tokens used directly by the execution (not in a step)."""
        run = self._running("record_llm")
        run.span.set_attributes(llm_attributes(model, input_tokens, output_tokens, operation=None, **more))
        return self

    def mark_not_retryable(self, reason: str) -> Execution:
        """This execution must not be retried (e.g. it already answered its caller)."""
        if self._run is None or self._run.ended:
            self._spec = replace(self._spec, retryable=False, not_retryable_reason=reason)
        else:
            self._run.mark_not_retryable(reason)
        return self

    def fail(self, message: str) -> Execution:
        """End status Failed with this message, without raising."""
        return self.set_status(sc.Status.FAILED, message)

    def set_status(self, status: str, message: str | None = None) -> Execution:
        """Decide the final status now (Success, Failed, Partially Executed, Rejected)."""
        status = sc.Status(status)
        if status not in FINAL_STATES:
            raise ValueError(f"set_status({status!r}): final statuses are {', '.join(sorted(FINAL_STATES))}; "
                             "use set_state() for live ones")
        if self._run is None:
            self._decided = (status, message)
        else:
            self._run.final = (status, message)
        return self

    def note_step_status(self, step_status: str) -> None:
        """A step of this execution ended ``step_status``: Failed and Skipped ones make an automation
        Partially Executed. ``step()`` calls it; so do instrumentations that write their own step spans."""
        if self._run is not None:
            self._run.note_step(step_status)

    # -- decorator ----------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        if self._run is not None:
            raise RuntimeError(f"{self.kind} {self.name!r} is running; decorate functions with a fresh "
                               f"{self.kind}(...)")
        return decorate(fn, self.kind, self.name, self._config)


def retry_target_of(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', getattr(fn, '__name__', ''))}"


def decorate(fn: F, kind: str, name: str, config: dict[str, Any]) -> F:
    """``fn`` run as an execution per call: bound arguments are the input, the return value the output."""
    sig = signature_of(fn)
    config = {**config, "retry_target": config.get("retry_target") or retry_target_of(fn)}
    code = code_of(fn)

    def open_execution(args: tuple, kwargs: dict) -> SpanRun:
        run = Execution(kind, name, **{**config, "input": bound_input(sig, args, kwargs)})
        return run.set_code(code()).start()._running("start")

    wrapper: Any = wrap(fn, kind, open_execution)
    wrapper.__execlog_execution__ = (kind, name)
    registry.register(name, kind, wrapper, fingerprint(config.get("trigger_config")) if kind == sc.Kind.AUTOMATION
                      else "")
    return wrapper  # type: ignore[return-value]


def automation(name: str | Callable[..., Any] | None = None, *, trigger: str | None = None,
               trigger_config: Any = None, timeout: float | None = None, retryable: bool = True,
               not_retryable_reason: str | None = None, input: Any = _UNSET, status: str = sc.Status.RUNNING,
               attributes: dict[str, Any] | None = None, **fields: Any) -> Any:
    """An automation execution: ``with automation("sync-orders", trigger="http") as run:``,
    ``@automation("sync-orders", trigger="schedule", trigger_config={...})`` or bare ``@automation``.

    ``fields``: event, target, target_record_id, request_id, triggered_by, raised_action, executed_action_ids."""
    return _make(sc.Kind.AUTOMATION, name, dict(trigger=trigger, trigger_config=trigger_config, timeout=timeout,
                                                retryable=retryable, not_retryable_reason=not_retryable_reason,
                                                input=input, status=status, attributes=attributes, **fields))


def agent(name: str | Callable[..., Any] | None = None, *, timeout: float | None = None, retryable: bool = True,
          not_retryable_reason: str | None = None, input: Any = _UNSET, status: str = sc.Status.RUNNING,
          attributes: dict[str, Any] | None = None, **fields: Any) -> Any:
    """An agent execution: ``with agent("research-agent", input={"prompt": ...}) as run:`` or ``@agent(...)``."""
    return _make(sc.Kind.AGENT, name, dict(timeout=timeout, retryable=retryable,
                                           not_retryable_reason=not_retryable_reason, input=input, status=status,
                                           attributes=attributes, **fields))


def _make(kind: str, name: Any, config: dict[str, Any]) -> Any:
    if callable(name):  # bare decorator
        fn = name
        _spec(kind, fn.__name__, **config)  # validate
        return decorate(fn, kind, fn.__name__, config)
    if name is None:
        def decorator(fn: F) -> F:
            _spec(kind, fn.__name__, **config)
            return decorate(fn, kind, fn.__name__, config)
        return decorator
    return Execution(kind, name, **config)


def record_detached_state(kind: str, name: str, status: str, *, execution_id: str, execution_start_ns: int,
                          attempt: int = 1, message: str | None = None,
                          attributes: dict[str, Any] | None = None) -> None:
    """The state of an execution whose root span does not exist (yet) in this process.

    A live status (Pending, Queued: a runner knows of the run before any code of it runs) is a
    state marker; a final one (e.g. Rejected: revoked before it ever started) is a zero-length root.
    Either joins the execution ``execution_id`` that later roots name in ``execlog.retry_of``."""
    status = str(sc.Status(status))
    now = time.time_ns()
    attrs: dict[str, Any] = {sc.KIND: str(kind), sc.EXECUTION_NAME: name, sc.STATUS: status,
                             sc.RETRY_OF: execution_id, sc.ATTEMPT: attempt,
                             sc.EXECUTION_START: execution_start_ns, sc.ATTEMPT_START: now,
                             sc.MAX_ATTEMPTS: RUNTIME.settings.max_attempts}
    if kind == sc.Kind.AGENT:
        attrs[sc.GEN_AI_AGENT_NAME] = name
    attrs.update(attributes or {})
    final = sc.Status(status) in FINAL_STATES
    if not final:
        attrs[sc.MARKER] = sc.MARKER_STATE
    if message:
        attrs[sc.VALIDATION_MESSAGE] = message
    context = otel_context.Context()
    if not final:
        # A marker is never a root (a root is an attempt): it hangs under a placeholder root span id, in the
        # trace named by the execution id when that is a trace id.
        try:
            trace_id = int(execution_id, 16) if len(execution_id) == 32 else 0
        except ValueError:
            trace_id = 0
        placeholder = SpanContext(trace_id or random.getrandbits(128), random.getrandbits(64) or 1,
                                  is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
        context = trace.set_span_in_context(trace.NonRecordingSpan(placeholder))
    secret = RUNTIME.settings.retry_secret
    if secret and not final:
        attrs[sc.RETRY_PROOF] = marker_proof(secret, execution_id, attempt,
                                             trace.get_current_span(context).get_span_context())
    span = RUNTIME.tracer.start_span(name if final else sc.STATE_SPAN_NAME, context=context,
                                     attributes=attrs, start_time=now)
    if final:
        record_root_proof(span, execution_id, secret)
    if final and status in sc.FAILED_STATUSES:
        span.set_status(OtelStatus(StatusCode.ERROR, message or status))
    span.end(end_time=now)
