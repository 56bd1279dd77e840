"""A started execution: the root of its own trace, or a step of the execution it runs inside.

``Execution`` (``executions.py``) is what user code holds; when it starts it becomes one
of the two types here, decided by whether another execution is running:

- ``RootRun``: a new trace whose root span carries kind, name, input/output, status and
  the reference fields; while it runs, zero-length state markers carry the live state
  (Running, Queued, Pending, Paused, Rejected once the time budget is spent) so the
  listing shows it before the root ends. It owns the time budget and the pause step.
- ``NestedRun``: a step span (kind ``node`` for an agent, ``action`` for an automation)
  in the outer execution's trace; it ends Success or Failed like a step, and a failure
  counts toward the outer execution's Partially Executed.

Both share ``SpanRun``: the span made current while it runs, payloads, attributes, and the
final status decided from the error, an explicit decision, or the steps' outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, StatusCode, TraceFlags
from opentelemetry.trace import Status as OtelStatus

from execlog_otel import semconv as sc
from execlog_otel.retry.proof import marker_proof, record_root_proof
from execlog_otel.sdk.attempts import AttemptContext, current_attempt
from execlog_otel.sdk.context import CURRENT_EXECUTION, clean_exit, error_text, record_error
from execlog_otel.sdk.deadlines import WATCHDOG
from execlog_otel.sdk.payloads import set_payload
from execlog_otel.sdk.runtime import RUNTIME

if TYPE_CHECKING:
    from execlog_otel.sdk.executions import Execution

log = logging.getLogger(__name__)

UNSET: Any = object()  # no input given (None is an input)
LIVE_STATES = frozenset(sc.LIVE_STATUSES)

# The reference document's fields: keyword -> attribute.
FIELDS = {
    "event": sc.EVENT, "target": sc.TARGET, "target_record_id": sc.TARGET_RECORD_ID,
    "request_id": sc.REQUEST_ID, "triggered_by": sc.TRIGGERED_BY, "raised_action": sc.RAISED_ACTION,
    "executed_action_ids": sc.EXECUTED_ACTION_IDS,
}
# Root attributes a state marker repeats, so the live row has the execution's identity.
_MARKER_COPY = (
    sc.KIND, sc.EXECUTION_NAME, sc.GEN_AI_AGENT_NAME, sc.INPUT, sc.INPUT + sc.TRUNCATED_SUFFIX,
    sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX, sc.TRIGGER, sc.TRIGGER_FINGERPRINT, sc.RETRY_TARGET, sc.MAX_ATTEMPTS,
    sc.RETRYABLE, sc.NOT_RETRYABLE_REASON, sc.RETRY_OF, sc.ATTEMPT, sc.TIMEOUT_MS, *FIELDS.values(),
)


@dataclass(frozen=True)
class RunSpec:
    """What a run starts with: validated, the same for every run of one ``Execution``."""

    kind: str
    name: str
    input: Any
    trigger: str | None
    fingerprint: str | None
    timeout: float | None
    retryable: bool
    not_retryable_reason: str | None
    status: str
    retry_target: str | None
    fields: dict[str, Any]  # reference fields as attributes
    attributes: dict[str, Any]  # the caller's extra attributes
    code: tuple[tuple[str, str], ...] = ()


class SpanRun:
    """What a root and a nested run share: a span made current while it runs."""

    def __init__(self, spec: RunSpec, handle: Execution) -> None:
        self.spec = spec
        self.handle = handle  # the user's object: what CURRENT_EXECUTION holds
        self.lock = threading.RLock()
        self.span: Any = None
        self.state: str | None = None
        self.final: tuple[str, str | None] | None = None
        self.ended = False
        self.failed_steps = 0
        self.skipped_steps = 0
        self._token: Any = None
        self._thread_id = 0

    def _open(self, span: Any) -> None:
        self.span = span
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._thread_id = threading.get_ident()
        if self.spec.input is not UNSET:
            self.set_input(self.spec.input)

    def _release(self) -> None:
        """Give the caller its context back and end the span: whatever happened while recording the end."""
        try:
            if self._token is not None and threading.get_ident() == self._thread_id:
                otel_context.detach(self._token)
            # else: never attached (the start failed first), or ended by a runner from another thread
            # (e.g. a revoked Celery task); that thread's context is not ours to change.
        finally:
            if self.span is not None:
                self.span.end()

    # -- what the code records (the root adds state markers and trigger payloads) ------------
    def set_input(self, value: Any) -> None:
        set_payload(self.span, sc.INPUT, value)

    def record_output(self, value: Any) -> None:
        set_payload(self.span, sc.OUTPUT, value)

    def note_step(self, step_status: str) -> None:
        if step_status == sc.StepStatus.FAILED:
            self.failed_steps += 1
        elif step_status == sc.StepStatus.SKIPPED:
            self.skipped_steps += 1

    def time_budget(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return contextlib.nullcontext()

    def emit_state(self, status: str, message: str | None = None) -> None:
        """Make a live state visible (only a root has a live row)."""

    def pause(self, reason: str) -> None:
        self.state = sc.Status.PAUSED

    def resume(self) -> None:
        self.state = sc.Status.RUNNING

    def mark_not_retryable(self, reason: str) -> None:
        self.span.set_attributes({sc.RETRYABLE: False, sc.NOT_RETRYABLE_REASON: reason})

    # -- the end ---------------------------------------------------------------------------
    def end(self, error: BaseException | None = None) -> str:
        with self.lock:
            if self.ended:
                return self.final[0] if self.final else (self.state or "")
            self.ended = True
        # The end is recorded in a try and the context given back in its finally: ``error`` is the
        # user's exception on its way to them, and a run left current would make every later
        # execution in this context its child.
        try:
            with self.lock:
                self._stop_clocks()
            self.final = self._decide(error)
            self._record_end(*self.final)
        except Exception:  # noqa: BLE001 - recording must never change what the user's code sees
            log.warning("execlog: recording the end of %s %r failed", self.spec.kind, self.spec.name, exc_info=True)
            if self.final is None:
                failed = error is not None and not clean_exit(error)
                self.final = (str(sc.Status.FAILED), error_text(error)) if failed else (str(sc.Status.SUCCESS), None)
        finally:
            self._release()
        return self.final[0]

    def _stop_clocks(self) -> None:
        """Called once, under the lock, when the run ends."""

    def past_deadline(self) -> bool:
        return False

    def _decide(self, error: BaseException | None) -> tuple[str, str | None]:
        if clean_exit(error):  # sys.exit(0) ends the run as returning would (and still propagates)
            error = None
        past_deadline = self.past_deadline()
        if error is not None and past_deadline and isinstance(error, (TimeoutError, asyncio.CancelledError)):
            return str(sc.Status.REJECTED), self.budget_message()
        if error is not None:  # KeyboardInterrupt and a non-zero exit included: the run did not finish
            record_error(self.span, error)
            return str(sc.Status.FAILED), error_text(error)
        if self.final is not None:
            return str(self.final[0]), self.final[1]
        if past_deadline:
            return str(sc.Status.REJECTED), self.budget_message()
        if self.spec.kind == sc.Kind.AUTOMATION and (self.failed_steps or self.skipped_steps):
            return str(sc.Status.PARTIALLY_EXECUTED), None
        return str(sc.Status.SUCCESS), None

    def budget_message(self) -> str:
        return f"TimeoutError: ran past its time budget of {self.spec.timeout:g} s"

    def _record_end(self, status: str, message: str | None) -> None:
        raise NotImplementedError


class NestedRun(SpanRun):
    """An execution started inside another one: a step of the outer execution's trace."""

    def start(self) -> NestedRun:
        spec = self.spec
        attrs: dict[str, Any] = {sc.STEP_KIND: "node" if spec.kind == sc.Kind.AGENT else "action",
                                 sc.EXECUTION_NAME: spec.name}
        attrs.update(spec.fields)
        attrs.update(spec.code)
        attrs.update(spec.attributes)
        self.span = RUNTIME.tracer.start_span(spec.name, attributes=attrs)
        try:
            self._open(self.span)
            self.state = sc.Status.RUNNING
        except BaseException as exc:
            self.end(exc)  # detach the context again: see RootRun.start
            raise
        return self

    def mark_not_retryable(self, reason: str) -> None:
        outer = CURRENT_EXECUTION.get()  # the execution that is retried is the outer one
        if outer is not None and outer is not self.handle:
            outer.mark_not_retryable(reason)
        else:
            super().mark_not_retryable(reason)

    def _record_end(self, status: str, message: str | None) -> None:
        ok = status in (sc.Status.SUCCESS, sc.Status.PARTIALLY_EXECUTED)
        self.span.set_attribute(sc.STEP_STATUS, str(sc.StepStatus.SUCCESS if ok else sc.StepStatus.FAILED))
        if not ok:
            self.span.set_status(OtelStatus(StatusCode.ERROR, message or status))
            outer = CURRENT_EXECUTION.get()
            if outer is not None:
                outer.note_step_status(sc.StepStatus.FAILED)


class RootRun(SpanRun):
    """An execution that is the root of its own trace, with a live state, a time budget and pauses."""

    def __init__(self, spec: RunSpec, handle: Execution) -> None:
        super().__init__(spec, handle)
        self.start_ns = 0
        self.execution_start_ns = 0
        self._execution_token: Any = None
        self._deadline: float | None = None
        self._deadline_handle: int | None = None
        self._rejected = False
        self._pause_span: Any = None
        self.execution_id = ""  # the first attempt's trace id (this one's, unless it is a retry)
        self._proof_secret = ""  # proves this attempt to the viewer (retry.proof)

    def start(self) -> RootRun:
        spec = self.spec
        self.start_ns = now = time.time_ns()
        attempt = current_attempt()
        self.execution_start_ns = attempt.execution_start_ns if attempt is not None else now
        attrs = {**self._identity(), **_attempt_attributes(attempt), sc.EXECUTION_START: self.execution_start_ns}
        # A new trace: the execution is its root, whatever span the caller is in.
        self.span = span = RUNTIME.tracer.start_span(
            spec.name, context=otel_context.Context(), attributes=attrs,
            links=_caller_links() + _first_attempt_links(attempt), start_time=now)
        self.execution_id = attempt.execution_id if attempt is not None else format(
            span.get_span_context().trace_id, "032x")
        self._proof_secret = (attempt.proof_secret if attempt is not None else "") or RUNTIME.settings.retry_secret
        try:
            self._execution_token = CURRENT_EXECUTION.set(self.handle)
            self._open(span)
            self.state = str(sc.Status(spec.status))
            self.emit_state(self.state)
            if spec.timeout is not None:
                self._deadline = time.monotonic() + spec.timeout
                self._deadline_handle = WATCHDOG.schedule(spec.timeout, self._on_deadline)
        except BaseException as exc:
            # E.g. Ctrl-C landing mid-start (a notebook's kernel lives on) or a failure of the SDK's own:
            # the run ends Failed and the current execution and context are reset, or every later
            # execution in this context would be recorded as a step of a root that never ends.
            self.end(exc)
            raise
        return self

    def _identity(self) -> dict[str, Any]:
        """The root's own attributes: kind, name, retry and budget settings, fields, code, extras."""
        spec = self.spec
        attrs: dict[str, Any] = {sc.KIND: spec.kind, sc.EXECUTION_NAME: spec.name, sc.STATUS: "Running",
                                 sc.MAX_ATTEMPTS: RUNTIME.settings.max_attempts}
        if spec.kind == sc.Kind.AGENT:
            attrs.update({sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: spec.name})
        else:
            attrs.update({sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW, sc.TRIGGER_FINGERPRINT: spec.fingerprint})
            if spec.trigger:
                attrs[sc.TRIGGER] = spec.trigger
        if spec.retry_target:
            attrs[sc.RETRY_TARGET] = spec.retry_target
        if spec.timeout is not None:
            attrs[sc.TIMEOUT_MS] = int(spec.timeout * 1000)
        if not spec.retryable:
            attrs[sc.RETRYABLE] = False
            attrs[sc.NOT_RETRYABLE_REASON] = spec.not_retryable_reason or "marked not retryable"
        return {**attrs, **spec.fields, **dict(spec.code), **spec.attributes}

    # -- live states ---------------------------------------------------------------------------
    def set_input(self, value: Any) -> None:
        attrs = set_payload(self.span, sc.INPUT, value)
        if self.spec.kind == sc.Kind.AUTOMATION:
            self.span.set_attributes({sc.TRIGGER_PAYLOAD + k[len(sc.INPUT):]: v for k, v in attrs.items()})

    def emit_state(self, status: str, message: str | None = None) -> None:
        span = self.span
        if span is None or not span.is_recording():
            return
        root_attrs = span.attributes or {}
        attrs: dict[str, Any] = {k: root_attrs[k] for k in _MARKER_COPY if k in root_attrs}
        attrs.update({sc.MARKER: sc.MARKER_STATE, sc.STATUS: str(status), sc.EXECUTION_START: self.execution_start_ns,
                      sc.ATTEMPT_START: self.start_ns})
        if message:
            attrs[sc.VALIDATION_MESSAGE] = message
        if self._proof_secret:
            attrs[sc.RETRY_PROOF] = marker_proof(self._proof_secret, self.execution_id, attrs.get(sc.ATTEMPT, 1),
                                                 span.get_span_context())
        now = max(time.time_ns(), self.start_ns + 1)
        marker = RUNTIME.tracer.start_span(sc.STATE_SPAN_NAME, context=trace.set_span_in_context(span),
                                           attributes=attrs, start_time=now)
        marker.end(end_time=now)

    def pause(self, reason: str) -> None:
        if self._pause_span is None:
            attrs = {sc.STEP_KIND: "pause"}
            if reason:
                attrs[sc.SKIP_REASON] = reason
            self._pause_span = RUNTIME.tracer.start_span(
                f"Pause: {reason}" if reason else "Pause", context=trace.set_span_in_context(self.span),
                attributes=attrs)
        super().pause(reason)

    def resume(self) -> None:
        self._end_pause()
        super().resume()

    def _end_pause(self) -> None:
        if self._pause_span is not None:
            self._pause_span.set_attribute(sc.STEP_STATUS, "Success")
            self._pause_span.end()
            self._pause_span = None

    # -- time budget -----------------------------------------------------------------------------
    def time_budget(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Async code is cancelled at the deadline (``TimeoutError``, as ``asyncio.timeout`` raises)."""
        return asyncio.timeout(self.spec.timeout) if self.spec.timeout is not None else contextlib.nullcontext()

    def past_deadline(self) -> bool:
        return self._rejected or (self._deadline is not None and time.monotonic() >= self._deadline)

    def _on_deadline(self) -> None:
        with self.lock:
            if self.ended:
                return
            self._rejected = True
            self.state = sc.Status.REJECTED
            self.emit_state(sc.Status.REJECTED, message=self.budget_message())

    # -- the end ---------------------------------------------------------------------------------
    def _stop_clocks(self) -> None:
        if self._deadline_handle is not None:
            WATCHDOG.cancel(self._deadline_handle)
        self._end_pause()

    def _record_end(self, status: str, message: str | None) -> None:
        self.span.set_attribute(sc.STATUS, status)
        if status in sc.FAILED_STATUSES:
            self.span.set_status(OtelStatus(StatusCode.ERROR, message or status))
            self.span.set_attribute(sc.VALIDATION_MESSAGE, message or status)
        record_root_proof(self.span, self.execution_id, self._proof_secret)

    def _release(self) -> None:
        try:
            if self._execution_token is not None:
                CURRENT_EXECUTION.reset(self._execution_token)
        except ValueError:  # ended from another context (a runner's signal handler, a callback)
            pass
        finally:
            super()._release()


def _attempt_attributes(attempt: AttemptContext | None) -> dict[str, Any]:
    """Which attempt this root is: a retry names its execution (the first attempt's trace id)."""
    if attempt is None:
        return {sc.ATTEMPT: 1}
    return {sc.RETRY_OF: attempt.execution_id, sc.ATTEMPT: attempt.attempt}


def _caller_links() -> list[Link]:
    """The span that was current (e.g. an HTTP request) is linked, not made the parent."""
    ambient = trace.get_current_span().get_span_context()
    return [Link(ambient, {"execlog.link": "caller"})] if ambient.is_valid else []


def _first_attempt_links(attempt: AttemptContext | None) -> list[Link]:
    if attempt is None or not attempt.first_root_span_id:
        return []
    try:
        first = SpanContext(int(attempt.execution_id, 16), int(attempt.first_root_span_id, 16),
                            is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    except ValueError:  # not hex ids: the attributes still tie the attempt to its execution
        return []
    return [Link(first, {"execlog.link": "first_attempt"})]
