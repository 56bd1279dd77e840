"""``step()``: one span per step of an execution (trigger, action, connector, tool, LLM call, ...).

Usable as a context manager (sync and async) or a decorator (sync and async
functions; the bound arguments become ``execlog.input``, the return value
``execlog.output``). Steps nest to any depth. A step ends Success, Failed (an
exception, re-raised unchanged, or ``fail()``) or Skipped (``skip(reason)``);
failed and skipped steps make a finishing automation Partially Executed.

Kept lean on purpose (``benchmarks/`` measures it against a bare OpenTelemetry
span): attributes are built once per call, code location is cached, and the
span is made current with a plain context attach rather than a generator-based
context manager.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status as OtelStatus
from opentelemetry.trace import StatusCode

from execlog_otel import semconv as sc
from execlog_otel.sdk.callsite import frame_attributes
from execlog_otel.sdk.context import CURRENT_EXECUTION, CURRENT_STEP, clean_exit, error_text, record_error
from execlog_otel.sdk.payloads import set_payload
from execlog_otel.sdk.runtime import RUNTIME
from execlog_otel.sdk.wrapping import bound_input, code_of, signature_of, wrap

F = TypeVar("F", bound=Callable[..., Any])
_UNSET: Any = object()
log = logging.getLogger(__name__)

_KINDS = frozenset(k.value for k in sc.StepKind)


def llm_attributes(model: str | None = None, input_tokens: int | None = None, output_tokens: int | None = None,
                   *, response_model: str | None = None, provider: str | None = None,
                   cache_read_input_tokens: int | None = None, cache_creation_input_tokens: int | None = None,
                   reasoning_output_tokens: int | None = None, operation: str | None = sc.OP_CHAT,
                   ) -> dict[str, Any]:
    """GenAI attributes of an LLM call (``gen_ai.*`` current names)."""
    attrs: dict[str, Any] = {}
    if operation:
        attrs[sc.GEN_AI_OPERATION_NAME] = operation
    if model:
        attrs[sc.GEN_AI_REQUEST_MODEL] = model
        attrs[sc.GEN_AI_RESPONSE_MODEL] = response_model or model
    elif response_model:
        attrs[sc.GEN_AI_RESPONSE_MODEL] = response_model
    if provider:
        attrs[sc.GEN_AI_PROVIDER_NAME] = provider
    if input_tokens is not None:
        attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = _token_count(sc.GEN_AI_USAGE_INPUT_TOKENS, input_tokens)
    if output_tokens is not None:
        attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = _token_count(sc.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens)
    for key, value in ((sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read_input_tokens),
                       (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_creation_input_tokens),
                       (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning_output_tokens)):
        if value is not None:
            attrs[key] = _token_count(key, value)
    return attrs


def _cost_usd(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"cost_usd={value!r}: a cost is a number of US dollars >= 0")
    return float(value)


def _token_count(key: str, value: Any) -> int:
    # Providers' JSON may count in floats (12.0): a whole one is the count; 12.5, -1, True or "12" are mistakes.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)) or value < 0:
        raise ValueError(f"{key}={value!r}: token counts are whole numbers >= 0")
    return int(value)


class Step:
    """A step of the current execution. Create with ``step(...)``."""

    __slots__ = ("name", "kind", "_attrs", "_span", "_token", "_step_token", "_status", "_fn", "_started",
                 "_ended", "_code")

    def __init__(self, name: str, kind: str = sc.StepKind.STEP, connector: str | None = None,
                 tool: str | None = None, attributes: dict[str, Any] | None = None,
                 _fn: Callable[..., Any] | None = None, cost_usd: float | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("step(name=...): a step needs a non-empty name")
        kind = str(kind)  # plain str values on spans, not enum members
        if tool and kind == "step":
            kind = "tool"
        if kind not in _KINDS:
            raise ValueError(f"step(kind={kind!r}): expected one of {', '.join(sorted(_KINDS))}")
        self.name = name
        self.kind = kind
        attrs: dict[str, Any] = {sc.STEP_KIND: kind}
        if connector:
            attrs[sc.CONNECTOR] = connector
        if tool:
            attrs[sc.GEN_AI_TOOL_NAME] = tool
            attrs[sc.GEN_AI_OPERATION_NAME] = sc.OP_EXECUTE_TOOL
        if cost_usd is not None:
            attrs[sc.COST_USD] = _cost_usd(cost_usd)
        if attributes:
            attrs.update(attributes)
        self._attrs = attrs
        self._fn = _fn
        self._span: Any = None
        self._token: Any = None
        self._step_token: Any = None
        self._status: str | None = None
        self._started = False
        self._ended = False
        self._code: tuple[tuple[str, str], ...] = ()

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> Step:
        if self._started:
            raise RuntimeError(f"step {self.name!r} was already started; create a new step() per run")
        self._started = True
        attrs = self._attrs
        if self._code:
            attrs.update(self._code)
        self._span = span = RUNTIME.tracer.start_span(self.name, attributes=attrs)
        self._token = otel_context.attach(trace.set_span_in_context(span))
        self._step_token = CURRENT_STEP.set(self)
        if self.kind == "response":
            try:
                execution = CURRENT_EXECUTION.get()
                if execution is not None:
                    execution.mark_not_retryable(f"step {self.name!r} answered the caller synchronously")
            except BaseException as exc:
                self.end(exc)  # give the context back: a step left current parents every later span
                raise
        return self

    def end(self, error: BaseException | None = None) -> None:
        if self._ended or not self._started:
            return
        self._ended = True
        span = self._span
        # Recorded in a try, the context given back in its finally: ``error`` is the user's exception
        # on its way to them, and it must arrive unchanged with the step no longer current.
        try:
            if error is not None and not clean_exit(error):  # sys.exit(0) in a step is no failure
                status = "Failed"
                record_error(span, error)
                span.set_status(OtelStatus(StatusCode.ERROR, error_text(error)))
            else:
                status = self._status or "Success"
            span.set_attribute(sc.STEP_STATUS, status)
            if status != "Success":
                execution = CURRENT_EXECUTION.get()
                if execution is not None:
                    execution.note_step_status(status)
        except Exception:  # noqa: BLE001 - recording must never change what the user's code sees
            log.warning("execlog: recording the end of step %r failed", self.name, exc_info=True)
        finally:
            try:
                CURRENT_STEP.reset(self._step_token)
            except ValueError:  # ended in another context (e.g. another task): leave that context alone
                pass
            finally:
                otel_context.detach(self._token)
                span.end()

    def __enter__(self) -> Step:
        if self._fn is None:
            self._code = frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code)
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.end(exc)
        return False

    async def __aenter__(self) -> Step:
        if self._fn is None:
            self._code = frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code)
        return self.start()

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        self.end(exc)
        return False

    # -- what the code records --------------------------------------------------
    @property
    def span(self) -> trace.Span:
        return self._span if self._span is not None else trace.INVALID_SPAN

    def set_input(self, value: Any) -> Step:
        if self._span is None:
            self._require_started("set_input")
        set_payload(self._span, sc.INPUT, value)
        return self

    def set_output(self, value: Any) -> Step:
        if self._span is None:
            self._require_started("set_output")
        set_payload(self._span, sc.OUTPUT, value)
        return self

    def record_output(self, value: Any) -> None:
        """The output of a decorated call (the shared wrapper's hook)."""
        set_payload(self._span, sc.OUTPUT, value)

    def time_budget(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A step has no time budget of its own (its execution's covers it)."""
        return contextlib.nullcontext()

    def set_attribute(self, key: str, value: Any) -> Step:
        self._require_started("set_attribute")
        self._span.set_attribute(key, value)
        return self

    def record_llm(self, model: str | None = None, input_tokens: int | None = None,
                   output_tokens: int | None = None, **more: Any) -> Step:
        """Model and token counts of an LLM call made in this step (GenAI attributes)."""
        if self._span is None:
            self._require_started("record_llm")
        if self._attrs.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL:
            more["operation"] = None  # a tool that called a model stays a tool
        self._span.set_attributes(llm_attributes(model, input_tokens, output_tokens, **more))
        return self

    def set_cost(self, usd: float) -> Step:
        """What this step cost in US dollars as the runner knows it (e.g. a paid API call); the
        execution's cost adds it to the cost of the step's tokens."""
        self._require_started("set_cost")
        self._span.set_attribute(sc.COST_USD, _cost_usd(usd))
        return self

    def skip(self, reason: str = "") -> Step:
        """Mark the step Skipped (with why); a step never started is recorded as a zero-length skip."""
        self._status = "Skipped"
        if not self._started:
            self._code = frame_attributes(sys._getframe(1), RUNTIME.settings.capture_code)
            self.start()
            self._span.set_attribute(sc.SKIP_REASON, reason)
            self.end()
            return self
        self._span.set_attribute(sc.SKIP_REASON, reason)
        return self

    def fail(self, message: str) -> Step:
        """Mark the step Failed without raising (the execution goes on, and ends Partially Executed)."""
        self._require_started("fail")
        self._status = "Failed"
        self._span.set_status(OtelStatus(StatusCode.ERROR, message))
        return self

    def mark_not_retryable(self, reason: str) -> Step:
        """The execution must not be retried (e.g. this step had a side effect that cannot repeat)."""
        execution = CURRENT_EXECUTION.get()
        if execution is not None:
            execution.mark_not_retryable(reason)
        return self

    def _require_started(self, what: str) -> None:
        if self._span is None:
            raise RuntimeError(f"step {self.name!r}: {what}() needs the step to be running (use it inside 'with')")

    # -- decorator ----------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        return _decorated(fn, self.name, self.kind, self._attrs)


def _decorated(fn: F, name: str, kind: str, attrs: dict[str, Any]) -> F:
    """``fn`` as a step per call: the bound arguments are its input, the return value its output."""
    sig = signature_of(fn)
    base = {k: v for k, v in attrs.items() if not k.startswith("code.") and k != sc.CODE_SOURCE}
    code = code_of(fn)

    def open_step(args: tuple, kwargs: dict) -> Step:
        s = Step(name, kind, attributes=base, _fn=fn)
        s._code = code()
        s.start()
        try:
            set_payload(s._span, sc.INPUT, bound_input(sig, args, kwargs))
        except BaseException as exc:  # e.g. a redaction hook raising KeyboardInterrupt: leave no step current
            s.end(exc)
            raise
        return s

    return wrap(fn, "step", open_step)


def step(name: str | Callable[..., Any] | None = None, kind: str = sc.StepKind.STEP, connector: str | None = None,
         tool: str | None = None, *, attributes: dict[str, Any] | None = None, cost_usd: float | None = None) -> Any:
    """A step: ``with step("Fetch order", kind="connector", connector="Shopify") as s: ...``,
    ``@step("Fetch order")`` or ``@step`` (named after the function).

    ``tool=`` makes it a GenAI tool call (``gen_ai.tool.name``, ``gen_ai.operation.name=execute_tool``);
    ``cost_usd=`` records what the step cost as the runner knows it (``execlog.cost.usd``)."""
    if callable(name):
        fn = name
        return _decorated(fn, fn.__name__, kind, Step(fn.__name__, kind, connector, tool, attributes,
                                                                  cost_usd=cost_usd)._attrs)
    if name is None:
        def decorator(fn: F) -> F:
            return _decorated(fn, fn.__name__, kind, Step(fn.__name__, kind, connector, tool, attributes,
                                                                  cost_usd=cost_usd)._attrs)
        return decorator
    return Step(name, kind, connector, tool, attributes, cost_usd=cost_usd)
