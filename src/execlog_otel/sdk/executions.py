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

import asyncio
import functools
import hashlib
import inspect
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, StatusCode, TraceFlags
from opentelemetry.trace import Status as OtelStatus

from execlog_otel import semconv as sc
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import current_attempt
from execlog_otel.sdk.callsite import frame_attributes
from execlog_otel.sdk.code_capture import code_attributes
from execlog_otel.sdk.context import CURRENT_EXECUTION, error_text
from execlog_otel.sdk.deadlines import WATCHDOG
from execlog_otel.sdk.payloads import set_payload
from execlog_otel.sdk.runtime import RUNTIME
from execlog_otel.sdk.steps import _bound_input, llm_attributes, reject_generators, signature_of

F = TypeVar("F", bound=Callable[..., Any])
_UNSET: Any = object()

# The reference document's fields: keyword -> attribute.
FIELDS = {
    "event": sc.EVENT, "target": sc.TARGET, "target_record_id": sc.TARGET_RECORD_ID,
    "request_id": sc.REQUEST_ID, "triggered_by": sc.TRIGGERED_BY, "raised_action": sc.RAISED_ACTION,
    "executed_action_ids": sc.EXECUTED_ACTION_IDS,
}
INITIAL_STATES = (sc.Status.RUNNING, sc.Status.QUEUED, sc.Status.PENDING)
LIVE_STATES = frozenset(sc.LIVE_STATUSES)
FINAL_STATES = frozenset({sc.Status.SUCCESS, sc.Status.FAILED, sc.Status.PARTIALLY_EXECUTED, sc.Status.REJECTED})

# Root attributes a state marker repeats, so the live row has the execution's identity.
_MARKER_COPY = (
    sc.KIND, sc.EXECUTION_NAME, sc.GEN_AI_AGENT_NAME, sc.INPUT, sc.INPUT + sc.TRUNCATED_SUFFIX,
    sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX, sc.TRIGGER, sc.TRIGGER_FINGERPRINT, sc.RETRY_TARGET, sc.MAX_ATTEMPTS,
    sc.RETRYABLE, sc.NOT_RETRYABLE_REASON, sc.RETRY_OF, sc.ATTEMPT, sc.TIMEOUT_MS, *FIELDS.values(),
)


def fingerprint(trigger_config: Any) -> str:
    """sha256 of the canonical JSON of a trigger configuration (also of an empty one)."""
    canonical = json.dumps(trigger_config if trigger_config is not None else {}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
            out[FIELDS[key]] = json.dumps([str(v) for v in value])
        else:
            out[FIELDS[key]] = str(value)
    return out


class Execution:
    """One run of an agent or automation. Create with ``agent(...)`` or ``automation(...)``."""

    def __init__(self, kind: str, name: str, *, input: Any = _UNSET, trigger: str | None = None,
                 trigger_config: Any = None, timeout: float | None = None, retryable: bool = True,
                 not_retryable_reason: str | None = None, status: str = sc.Status.RUNNING,
                 retry_target: str | None = None, attributes: dict[str, Any] | None = None,
                 **fields: Any) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{kind}(name=...): an execution needs a non-empty name")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"{kind}({name!r}, timeout={timeout!r}): expected a positive number of seconds")
        if status not in INITIAL_STATES:
            raise ValueError(f"{kind}({name!r}, status={status!r}): an execution starts "
                             f"{', '.join(INITIAL_STATES)}")
        self.kind = str(kind)  # plain str values on spans, not enum members
        self.name = name
        self.timeout = float(timeout) if timeout is not None else None
        self._config = dict(input=input, trigger=trigger, trigger_config=trigger_config, timeout=timeout,
                            retryable=retryable, not_retryable_reason=not_retryable_reason, status=status,
                            retry_target=retry_target, attributes=attributes, **fields)
        self._input = input
        self._trigger = trigger
        self._fingerprint = fingerprint(trigger_config) if kind == sc.Kind.AUTOMATION else None
        self._fields = _check_fields(fields)
        self._retryable = retryable
        self._not_retryable_reason = not_retryable_reason
        self._initial_status = str(sc.Status(status))
        self._retry_target = retry_target
        self._extra = dict(attributes or {})
        self._code: tuple[tuple[str, str], ...] = ()
        self._span: Any = None
        self._token: Any = None
        self._exec_token: Any = None
        self._lock = threading.RLock()
        self._state: str | None = None
        self._final: tuple[str, str | None] | None = None
        self._failed_steps = 0
        self._skipped_steps = 0
        self._started = False
        self._ended = False
        self._nested = False
        self._start_ns = 0
        self._execution_start_ns = 0
        self._deadline: float | None = None
        self._deadline_handle: int | None = None
        self._rejected = False
        self._pause_span: Any = None
        self._async_timeout: Any = None
        self._thread_id = 0

    # -- identity ---------------------------------------------------------------
    @property
    def span(self) -> trace.Span:
        return self._span if self._span is not None else trace.INVALID_SPAN

    @property
    def execution_id(self) -> str:
        """The execution's id: the first attempt's trace id (32 hex)."""
        attempt = current_attempt() if not self._started else None
        if self._span is not None:
            retry_of = (getattr(self._span, "attributes", None) or {}).get(sc.RETRY_OF)
            if retry_of:
                return str(retry_of)
            return format(self._span.get_span_context().trace_id, "032x")
        return attempt.execution_id if attempt else ""

    @property
    def trace_id(self) -> str:
        return format(self._span.get_span_context().trace_id, "032x") if self._span is not None else ""

    @property
    def root_span_id(self) -> str:
        """Span id of this attempt's root (16 hex), for ``attempt_of(..., first_root_span_id=...)``."""
        return format(self._span.get_span_context().span_id, "016x") if self._span is not None else ""

    @property
    def execution_start_ns(self) -> int:
        """Start of the execution (its first attempt), ns since the epoch."""
        return self._execution_start_ns

    @property
    def status(self) -> str | None:
        """The current state (live), or the final status once ended."""
        return self._final[0] if self._final else self._state

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> Execution:
        with self._lock:
            if self._started:
                raise RuntimeError(f"{self.kind} {self.name!r} was already started; each run needs its own "
                                   f"{self.kind}(...) (decorated functions get one per call)")
            self._started = True
        outer = CURRENT_EXECUTION.get()
        if outer is not None and not outer._ended:
            return self._start_nested()
        settings = RUNTIME.settings
        self._start_ns = now = time.time_ns()
        attrs: dict[str, Any] = {sc.KIND: self.kind, sc.EXECUTION_NAME: self.name, sc.STATUS: "Running",
                                 sc.MAX_ATTEMPTS: settings.max_attempts}
        if self.kind == sc.Kind.AGENT:
            attrs[sc.GEN_AI_OPERATION_NAME] = sc.OP_INVOKE_AGENT
            attrs[sc.GEN_AI_AGENT_NAME] = self.name
        else:
            attrs[sc.GEN_AI_OPERATION_NAME] = sc.OP_INVOKE_WORKFLOW
            attrs[sc.TRIGGER_FINGERPRINT] = self._fingerprint
            if self._trigger:
                attrs[sc.TRIGGER] = self._trigger
        if self._retry_target:
            attrs[sc.RETRY_TARGET] = self._retry_target
        if self.timeout is not None:
            attrs[sc.TIMEOUT_MS] = int(self.timeout * 1000)
        if not self._retryable:
            attrs[sc.RETRYABLE] = False
            attrs[sc.NOT_RETRYABLE_REASON] = self._not_retryable_reason or "marked not retryable"
        attrs.update(self._fields)
        attrs.update(self._code)
        attrs.update(self._extra)
        links: list[Link] = []
        ambient = trace.get_current_span().get_span_context()
        if ambient.is_valid:
            links.append(Link(ambient, {"execlog.link": "caller"}))
        attempt = current_attempt()
        if attempt is not None:
            self._execution_start_ns = attempt.execution_start_ns
            attrs[sc.RETRY_OF] = attempt.execution_id
            attrs[sc.ATTEMPT] = attempt.attempt
            try:
                if attempt.first_root_span_id:
                    first = SpanContext(int(attempt.execution_id, 16), int(attempt.first_root_span_id, 16),
                                        is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
                    links.append(Link(first, {"execlog.link": "first_attempt"}))
            except ValueError:
                pass  # not hex ids: the attributes still tie the attempt to its execution
        else:
            self._execution_start_ns = now
            attrs[sc.ATTEMPT] = 1
        attrs[sc.EXECUTION_START] = self._execution_start_ns
        # A new trace: the execution is its root, whatever span the caller is in.
        self._span = span = RUNTIME.tracer.start_span(self.name, context=otel_context.Context(), attributes=attrs,
                                                      links=links, start_time=now)
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._thread_id = threading.get_ident()
        self._exec_token = CURRENT_EXECUTION.set(self)
        if self._input is not _UNSET:
            self._set_input(self._input)
        self._state = self._initial_status
        self._emit_marker(self._initial_status)
        if self.timeout is not None:
            self._deadline = time.monotonic() + self.timeout
            self._deadline_handle = WATCHDOG.schedule(self.timeout, self._on_deadline)
        return self

    def _start_nested(self) -> Execution:
        self._nested = True
        kind = "node" if self.kind == sc.Kind.AGENT else "action"
        attrs: dict[str, Any] = {sc.STEP_KIND: kind, sc.EXECUTION_NAME: self.name}
        attrs.update(self._fields)
        attrs.update(self._code)
        attrs.update(self._extra)
        self._span = span = RUNTIME.tracer.start_span(self.name, attributes=attrs)
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._thread_id = threading.get_ident()
        if self._input is not _UNSET:
            self._set_input(self._input)
        self._state = sc.Status.RUNNING
        return self

    def end(self, error: BaseException | None = None) -> str:
        """End the execution (``error``: the exception that ended it); returns the final status."""
        with self._lock:
            if self._ended or not self._started:
                return self.status or ""
            self._ended = True
            if self._deadline_handle is not None:
                WATCHDOG.cancel(self._deadline_handle)
            if self._pause_span is not None:
                self._pause_span.set_attribute(sc.STEP_STATUS, "Success")
                self._pause_span.end()
                self._pause_span = None
        span = self._span
        past_deadline = self._rejected or (self._deadline is not None and time.monotonic() >= self._deadline)
        message: str | None = None
        if error is not None and past_deadline and isinstance(error, (TimeoutError, asyncio.CancelledError)):
            status, message = sc.Status.REJECTED, self._budget_message()
        elif error is not None:
            status, message = sc.Status.FAILED, error_text(error)
            span.record_exception(error)
        elif self._final is not None:
            status, message = self._final
        elif past_deadline:
            status, message = sc.Status.REJECTED, self._budget_message()
        elif self.kind == sc.Kind.AUTOMATION and (self._failed_steps or self._skipped_steps):
            status = sc.Status.PARTIALLY_EXECUTED
        else:
            status = sc.Status.SUCCESS
        status = str(status)
        self._final = (status, message)
        if self._nested:
            step_status = {sc.Status.SUCCESS: sc.StepStatus.SUCCESS,
                           sc.Status.PARTIALLY_EXECUTED: sc.StepStatus.SUCCESS}.get(status, sc.StepStatus.FAILED)
            span.set_attribute(sc.STEP_STATUS, str(step_status))
            if step_status == sc.StepStatus.FAILED:
                span.set_status(OtelStatus(StatusCode.ERROR, message or status))
                outer = CURRENT_EXECUTION.get()
                if outer is not None:
                    outer._note_step(sc.StepStatus.FAILED)
        else:
            span.set_attribute(sc.STATUS, status)
            if status in sc.FAILED_STATUSES:
                span.set_status(OtelStatus(StatusCode.ERROR, message or status))
                span.set_attribute(sc.VALIDATION_MESSAGE, message or status)
            try:
                CURRENT_EXECUTION.reset(self._exec_token)
            except ValueError:  # ended from another context (a runner's signal handler, a callback)
                pass
        if threading.get_ident() == self._thread_id:
            otel_context.detach(self._token)
        # else: ended by a runner from another thread (e.g. a revoked Celery task); that thread's
        # context is not ours to change.
        span.end()
        return status

    def _budget_message(self) -> str:
        return f"TimeoutError: ran past its time budget of {self.timeout:g} s"

    def _on_deadline(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._rejected = True
            self._state = sc.Status.REJECTED
            self._emit_marker(sc.Status.REJECTED, message=self._budget_message())

    def __enter__(self) -> Execution:
        self._code = self._code or frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code)
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.end(exc)
        return False

    async def __aenter__(self) -> Execution:
        self._code = self._code or frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code)
        self.start()
        if self.timeout is not None and not self._nested:
            self._async_timeout = asyncio.timeout(self.timeout)
            await self._async_timeout.__aenter__()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        if self._async_timeout is not None:
            try:
                await self._async_timeout.__aexit__(exc_type, exc, tb)
            except BaseException as converted:  # the cancellation, turned into TimeoutError
                self.end(converted)
                raise
        self.end(exc)
        return False

    # -- live states ----------------------------------------------------------------
    def _emit_marker(self, status: str, message: str | None = None) -> None:
        span = self._span
        if self._nested or span is None or not span.is_recording():
            return
        root_attrs = span.attributes or {}
        attrs: dict[str, Any] = {k: root_attrs[k] for k in _MARKER_COPY if k in root_attrs}
        attrs[sc.MARKER] = sc.MARKER_STATE
        attrs[sc.STATUS] = str(status)
        attrs[sc.EXECUTION_START] = self._execution_start_ns
        attrs[sc.ATTEMPT_START] = self._start_ns
        if message:
            attrs[sc.VALIDATION_MESSAGE] = message
        now = max(time.time_ns(), self._start_ns + 1)
        marker = RUNTIME.tracer.start_span(sc.STATE_SPAN_NAME, context=trace.set_span_in_context(span),
                                           attributes=attrs, start_time=now)
        marker.end(end_time=now)

    def set_state(self, status: str) -> Execution:
        """Change the live state (Running, Queued, Pending, Paused); visible within the flush interval."""
        status = sc.Status(status)
        if status not in LIVE_STATES:
            raise ValueError(f"set_state({status!r}): live states are {', '.join(sorted(LIVE_STATES))}; "
                             "a final status is decided when the execution ends (or use fail()/set_status())")
        with self._lock:
            self._require_running("set_state")
            self._state = status
            self._emit_marker(status)
        return self

    def pause(self, reason: str = "") -> Execution:
        """Paused (a pause step opens, and a Paused marker is emitted) until ``resume()``."""
        with self._lock:
            self._require_running("pause")
            if self._pause_span is None and not self._nested:
                attrs = {sc.STEP_KIND: "pause"}
                if reason:
                    attrs[sc.SKIP_REASON] = reason
                self._pause_span = RUNTIME.tracer.start_span(
                    f"Pause: {reason}" if reason else "Pause", context=trace.set_span_in_context(self._span),
                    attributes=attrs)
            self._state = sc.Status.PAUSED
            self._emit_marker(sc.Status.PAUSED)
        return self

    def resume(self) -> Execution:
        with self._lock:
            self._require_running("resume")
            if self._pause_span is not None:
                self._pause_span.set_attribute(sc.STEP_STATUS, "Success")
                self._pause_span.end()
                self._pause_span = None
            self._state = sc.Status.RUNNING
            self._emit_marker(sc.Status.RUNNING)
        return self

    def _require_running(self, what: str) -> None:
        if not self._started or self._ended:
            raise RuntimeError(f"{self.kind} {self.name!r}: {what}() needs the execution to be running")

    # -- what the code records ----------------------------------------------------------
    def _set_input(self, value: Any) -> None:
        attrs = set_payload(self._span, sc.INPUT, value)
        if self.kind == sc.Kind.AUTOMATION and not self._nested:
            self._span.set_attributes({sc.TRIGGER_PAYLOAD + k[len(sc.INPUT):]: v for k, v in attrs.items()})

    def set_input(self, value: Any) -> Execution:
        """The input: an agent's prompt / instructions, an automation's trigger payload (JSON)."""
        self._require_running("set_input")
        self._set_input(value)
        if self._state in LIVE_STATES:
            self._emit_marker(self._state)  # the live row shows the input too
        return self

    def set_output(self, value: Any) -> Execution:
        self._require_running("set_output")
        set_payload(self._span, sc.OUTPUT, value)
        return self

    def set_fields(self, **fields: Any) -> Execution:
        """event, target, target_record_id, request_id, triggered_by, raised_action, executed_action_ids."""
        self._require_running("set_fields")
        self._span.set_attributes(_check_fields(fields))
        if self._state in LIVE_STATES:
            self._emit_marker(self._state)
        return self

    def set_attribute(self, key: str, value: Any) -> Execution:
        self._require_running("set_attribute")
        self._span.set_attribute(key, value)
        return self

    def record_llm(self, model: str | None = None, input_tokens: int | None = None,
                   output_tokens: int | None = None, **more: Any) -> Execution:
        """Model and tokens used directly by the execution (not in a step)."""
        self._require_running("record_llm")
        attrs = llm_attributes(model, input_tokens, output_tokens, operation=None, **more)
        self._span.set_attributes(attrs)
        return self

    def mark_not_retryable(self, reason: str) -> Execution:
        """This execution must not be retried (e.g. it already answered its caller)."""
        if self._span is None or self._ended:
            self._retryable, self._not_retryable_reason = False, reason
            return self
        target = self
        if self._nested:
            outer = CURRENT_EXECUTION.get()
            target = outer if outer is not None else self
        target._span.set_attributes({sc.RETRYABLE: False, sc.NOT_RETRYABLE_REASON: reason})
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
        self._final = (status, message)
        return self

    def _note_step(self, step_status: str) -> None:
        if step_status == sc.StepStatus.FAILED:
            self._failed_steps += 1
        elif step_status == sc.StepStatus.SKIPPED:
            self._skipped_steps += 1

    # -- decorator ----------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        if self._started:
            raise RuntimeError(f"{self.kind} {self.name!r} is running; decorate functions with a fresh "
                               f"{self.kind}(...)")
        return decorate(fn, self.kind, self.name, self._config)

    def _fresh(self, **overrides: Any) -> Execution:
        config = {**self._config, **overrides}
        return Execution(self.kind, self.name, **config)


def retry_target_of(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', getattr(fn, '__name__', ''))}"


def decorate(fn: F, kind: str, name: str, config: dict[str, Any]) -> F:
    """``fn`` run as an execution per call: bound arguments are the input, the return value the output."""
    reject_generators(fn, kind)
    sig = signature_of(fn)
    config = {**config, "retry_target": config.get("retry_target") or retry_target_of(fn)}
    timeout = config.get("timeout")
    cache: list[Any] = [None, ()]

    def code() -> tuple[tuple[str, str], ...]:
        gen = RUNTIME.generation
        if cache[0] != gen:
            s = RUNTIME.settings
            cache[1] = tuple(code_attributes(fn, capture_source=s.capture_code,
                                             max_bytes=s.payload_cap_bytes).items())
            cache[0] = gen
        return cache[1]

    def new_execution(args: tuple, kwargs: dict) -> Execution:
        run = Execution(kind, name, **{**config, "input": _bound_input(sig, args, kwargs)})
        run._code = code()
        return run

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = new_execution(args, kwargs).start()
            try:
                if timeout is not None and not run._nested:
                    async with asyncio.timeout(timeout):
                        result = await fn(*args, **kwargs)
                else:
                    result = await fn(*args, **kwargs)
                set_payload(run._span, sc.OUTPUT, result)
            except BaseException as exc:
                run.end(exc)
                raise
            run.end()
            return result

        wrapper: Any = async_wrapper
    else:
        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            run = new_execution(args, kwargs).start()
            try:
                result = fn(*args, **kwargs)
                set_payload(run._span, sc.OUTPUT, result)
            except BaseException as exc:
                run.end(exc)
                raise
            run.end()
            return result

        wrapper = sync_wrapper
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
        Execution(kind, fn.__name__, **config)  # validate
        return decorate(fn, kind, fn.__name__, config)
    if name is None:
        def decorator(fn: F) -> F:
            Execution(kind, fn.__name__, **config)
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
    span = RUNTIME.tracer.start_span(name if final else sc.STATE_SPAN_NAME, context=context,
                                     attributes=attrs, start_time=now)
    if final and status in sc.FAILED_STATUSES:
        span.set_status(OtelStatus(StatusCode.ERROR, message or status))
    span.end(end_time=now)
