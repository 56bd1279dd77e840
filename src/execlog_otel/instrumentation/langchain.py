"""LangChain / LangGraph: a graph or agent invocation is an agent execution.

Built on OpenTelemetry's official ``opentelemetry-instrumentation-genai-langchain``,
which records the LLM calls (``chat <model>``: model, tokens), the tool calls
(``execute_tool <tool>``) and the agent/workflow invocation spans. This adds
what it lacks for an execution log:

- the execution: each top-level ``invoke`` / ``ainvoke`` / ``stream`` /
  ``astream`` of a LangGraph graph (``create_agent`` agents included) is an
  ``agent`` execution named after the graph (``run_name`` of the config wins),
  with its input (the messages / state, JSON) and output (the final state), its
  live Running state and its status (an exception -> Failed); the official
  spans nest under it. Inside an execution already running (e.g. a graph
  called from an ``@automation``), the graph is a step of that execution.
- graph nodes as steps (``execlog.step.kind=node``), with their input, output and status.
- tool calls replayable by Download Code: the official ``execute_tool`` span gets the tool's
  underlying function's code (``code.*``, ``execlog.code.source``/``.context``), the arguments
  it was called with and its return value (``execlog.input`` / ``execlog.output``).

The official instrumentor declares a dependency on the ``langchain`` package; it
only needs ``langchain-core``, so it is switched on here without that check.
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import logging
import sys
import threading
from collections.abc import Collection
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.trace import Status as OtelStatus
from opentelemetry.trace import StatusCode

from execlog_otel import semconv as sc
from execlog_otel.sdk import registry
from execlog_otel.sdk.callsite import frame_attributes
from execlog_otel.sdk.code_capture import code_attributes
from execlog_otel.sdk.context import CURRENT_EXECUTION, error_text
from execlog_otel.sdk.executions import Execution
from execlog_otel.sdk.payloads import set_payload
from execlog_otel.sdk.runtime import RUNTIME

log = logging.getLogger(__name__)

_instruments = ("langchain-core >= 0.3",)
_GRAPH_METHODS = ("invoke", "ainvoke", "stream", "astream")
_SKIP_NODES = {"__start__", "__end__"}
# Set while one of our wrappers runs a graph: invoke() calls stream() internally, which must not record twice.
_IN_GRAPH: contextvars.ContextVar[bool] = contextvars.ContextVar("execlog_in_graph", default=False)
_CONTROL_FLOW = ("GraphInterrupt", "GraphBubbleUp", "ParentCommand", "NodeInterrupt")


def simplify(value: Any, depth: int = 0) -> Any:
    """LangChain messages and documents as small JSON objects (role, content, tool calls)."""
    if depth > 12:
        return repr(value)
    try:
        from langchain_core.messages import BaseMessage
    except ImportError:  # pragma: no cover - langchain-core is a dependency of this module
        BaseMessage = ()  # type: ignore[assignment]  # noqa: N806
    if isinstance(value, BaseMessage):
        out: dict[str, Any] = {"role": value.type, "content": value.content}
        if getattr(value, "name", None):
            out["name"] = value.name
        tool_calls = getattr(value, "tool_calls", None)
        if tool_calls:
            out["tool_calls"] = [{"name": c.get("name"), "args": c.get("args"), "id": c.get("id")} for c in tool_calls]
        if getattr(value, "tool_call_id", None):
            out["tool_call_id"] = value.tool_call_id
        return out
    if isinstance(value, dict):
        return {str(k): simplify(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [simplify(v, depth + 1) for v in value]
    if hasattr(value, "page_content"):
        return {"page_content": value.page_content, "metadata": getattr(value, "metadata", {})}
    return value


def _graph_name(instance: Any, config: Any) -> str:
    if isinstance(config, dict) and config.get("run_name"):
        return str(config["run_name"])
    return str(getattr(instance, "name", None) or type(instance).__name__)


_LIBRARY_MODULES = ("wrapt", "langgraph", "langchain", "langchain_core", "opentelemetry", "execlog_otel")


def _caller_code() -> tuple[tuple[str, str], ...]:
    """Code location of the application code that invoked the graph (first frame outside the libraries)."""
    frame = sys._getframe(2)
    for _ in range(64):
        if frame is None:
            return ()
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_LIBRARY_MODULES) or module.startswith("execlog_otel.demo"):
            return frame_attributes(frame, RUNTIME.settings.capture_code)
        frame = frame.f_back
    return ()


def _register(name: str, graph: Any) -> None:
    """Make the graph re-runnable by name (the retry listener calls ``fn(**input)``; LangGraph turns
    ``{"role", "content"}`` dicts back into messages)."""
    if registry.get(name) is None:
        def rerun(**graph_input: Any) -> Any:
            return simplify(graph.invoke(graph_input, config={"run_name": name}))

        rerun.__name__ = rerun.__qualname__ = name
        registry.register(name, sc.Kind.AGENT, rerun)


def _graph_start(method: str, instance: Any, args: tuple, kwargs: dict) -> tuple[Execution, contextvars.Token]:
    """Start the agent execution of one graph call (outermost only: nested graph calls are its steps)."""
    config = kwargs.get("config", args[1] if len(args) > 1 else None)
    graph_input = kwargs.get("input", args[0] if args else None)
    run = Execution(sc.Kind.AGENT, _graph_name(instance, config), input=simplify(graph_input),
                    attributes={"langgraph.method": method})
    run.set_code(_caller_code())
    _register(run.name, instance)
    token = _IN_GRAPH.set(True)
    run.start()
    return run, token


def _graph_finish(run: Execution, token: contextvars.Token, error: BaseException | None, output: Any) -> None:
    try:
        if error is None and output is not None:
            run.set_output(simplify(output))
        if error is not None and type(error).__name__ in _CONTROL_FLOW:
            run.set_status(sc.Status.SUCCESS, f"interrupted: {error_text(error)}")
            run.end()
        else:
            run.end(error)
    finally:
        try:
            _IN_GRAPH.reset(token)
        except ValueError:
            _IN_GRAPH.set(False)


def _invoke_wrapper(method: str):
    def wrapper(wrapped, instance, args, kwargs):
        if _IN_GRAPH.get():
            return wrapped(*args, **kwargs)
        run, token = _graph_start(method, instance, args, kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _graph_finish(run, token, exc, None)
            raise
        _graph_finish(run, token, None, result)
        return result
    return wrapper


def _ainvoke_wrapper(method: str):
    async def wrapper(wrapped, instance, args, kwargs):
        if _IN_GRAPH.get():
            return await wrapped(*args, **kwargs)
        run, token = _graph_start(method, instance, args, kwargs)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            _graph_finish(run, token, exc, None)
            raise
        _graph_finish(run, token, None, result)
        return result
    return wrapper


def _stream_wrapper(method: str):
    def wrapper(wrapped, instance, args, kwargs):
        if _IN_GRAPH.get():
            return wrapped(*args, **kwargs)

        def generate():
            run, token = _graph_start(method, instance, args, kwargs)
            last = None
            try:
                for chunk in wrapped(*args, **kwargs):
                    last = chunk
                    yield chunk
            except GeneratorExit:  # the consumer stopped reading: not a failure of the graph
                _graph_finish(run, token, None, last)
                raise
            except BaseException as exc:
                _graph_finish(run, token, exc, None)
                raise
            _graph_finish(run, token, None, last)
        return generate()
    return wrapper


def _astream_wrapper(method: str):
    def wrapper(wrapped, instance, args, kwargs):
        if _IN_GRAPH.get():
            return wrapped(*args, **kwargs)

        async def agenerate():
            run, token = _graph_start(method, instance, args, kwargs)
            last = None
            try:
                async for chunk in wrapped(*args, **kwargs):
                    last = chunk
                    yield chunk
            except GeneratorExit:
                _graph_finish(run, token, None, last)
                raise
            except BaseException as exc:
                _graph_finish(run, token, exc, None)
                raise
            _graph_finish(run, token, None, last)
        return agenerate()
    return wrapper


def _graph_call(method: str):
    """A wrapt wrapper running a graph call as an agent execution (one per call shape)."""
    shapes = {"invoke": _invoke_wrapper, "ainvoke": _ainvoke_wrapper, "stream": _stream_wrapper}
    return shapes.get(method, _astream_wrapper)(method)


# Tool classes whose ``_run``/``_arun`` call the user's function (``func`` / ``coroutine``) directly.
_TOOL_CLASSES = (("langchain_core.tools.structured", "StructuredTool"), ("langchain_core.tools.simple", "Tool"))
# Arguments LangChain passes to ``_run`` for its own use, not the tool function's input.
_TOOL_PLUMBING = frozenset(("run_manager", "config", "callbacks"))


def _tool_span(instance: Any, fn: Any, args: tuple, kwargs: dict) -> Any:
    """The official ``execute_tool`` span of this call, annotated with the function's code and input
    (None outside an execution, or when no tool span is current)."""
    if fn is None or CURRENT_EXECUTION.get() is None:
        return None
    span = trace.get_current_span()
    attributes = getattr(span, "attributes", None) or {}
    if not span.is_recording() or attributes.get(sc.GEN_AI_OPERATION_NAME) != sc.OP_EXECUTE_TOOL:
        return None
    try:
        s = RUNTIME.settings
        span.set_attributes(code_attributes(fn, capture_source=s.capture_code, max_bytes=s.payload_cap_bytes))
        call_kwargs = {k: v for k, v in kwargs.items() if k not in _TOOL_PLUMBING}
        try:
            bound = dict(inspect.signature(fn).bind_partial(*args, **call_kwargs).arguments)
        except (TypeError, ValueError):
            bound = {**{f"arg{i}": a for i, a in enumerate(args)}, **call_kwargs}
        set_payload(span, sc.INPUT, {k: v for k, v in bound.items() if k not in _TOOL_PLUMBING})
        metadata = (kwargs.get("config") or {}).get("metadata") or {}
        if metadata.get("langgraph_node"):
            span.set_attribute("langgraph.node", str(metadata["langgraph_node"]))
    except Exception:  # noqa: BLE001 - recording must never break the tool
        log.debug("execlog: tool code", exc_info=True)
    return span


def _tool_output(span: Any, result: Any) -> None:
    try:
        set_payload(span, sc.OUTPUT, simplify(result))
    except Exception:  # noqa: BLE001
        log.debug("execlog: tool output", exc_info=True)


def _tool_run(wrapped, instance, args, kwargs):
    span = _tool_span(instance, getattr(instance, "func", None), args, kwargs)
    result = wrapped(*args, **kwargs)
    if span is not None:
        _tool_output(span, result)
    return result


async def _tool_arun(wrapped, instance, args, kwargs):
    fn = getattr(instance, "coroutine", None)
    span = _tool_span(instance, fn, args, kwargs) if fn is not None else None
    result = await wrapped(*args, **kwargs)
    if span is not None:
        _tool_output(span, result)
    return result


def _node_of(serialized: Any, metadata: dict | None, kwargs: dict) -> str | None:
    """The LangGraph node a chain run is (None: another chain, a skipped node, or outside an execution)."""
    node = (metadata or {}).get("langgraph_node")
    name = kwargs.get("name") or (serialized or {}).get("name")
    if not node or node in _SKIP_NODES or name != node or CURRENT_EXECUTION.get() is None:
        return None
    return str(node)


def _parent_context(spans: dict, parents: dict, parent_run_id: UUID | None) -> Any:
    """The context of the nearest enclosing node's span (None: the current context, the execution's root)."""
    seen = 0
    while parent_run_id is not None and seen < 256:
        span = spans.get(parent_run_id)
        if span is not None:
            return trace.set_span_in_context(span)
        parent_run_id = parents.get(parent_run_id)
        seen += 1
    return None


def _start_node_span(node: str, context: Any, metadata: dict | None, inputs: Any) -> Any:
    """A step span for a LangGraph node starting (None when it cannot be recorded: never break the graph)."""
    try:
        span = RUNTIME.tracer.start_span(
            node, context=context,
            attributes={sc.STEP_KIND: "node", "langgraph.node": node,
                        "langgraph.step": int((metadata or {}).get("langgraph_step") or 0)})
        set_payload(span, sc.INPUT, simplify(inputs))
        return span
    except Exception:  # noqa: BLE001 - never break the graph
        log.debug("execlog: node start", exc_info=True)
        return None


def _end_node_span(span: Any, error: BaseException | None, outputs: Any) -> None:
    """End a node's step span: Failed with the error (control-flow exceptions are not failures), else its output."""
    try:
        if error is not None and type(error).__name__ not in _CONTROL_FLOW:
            span.record_exception(error)
            span.set_status(OtelStatus(StatusCode.ERROR, error_text(error)))
            span.set_attribute(sc.STEP_STATUS, "Failed")
            execution = CURRENT_EXECUTION.get()
            if execution is not None:
                execution.note_step_status("Failed")
        else:
            if outputs is not None:
                set_payload(span, sc.OUTPUT, simplify(outputs))
            span.set_attribute(sc.STEP_STATUS, "Success")
        span.end()
    except Exception:  # noqa: BLE001
        log.debug("execlog: node end", exc_info=True)


class _NodeSteps:
    """LangGraph nodes as step spans (callbacks: no context to attach, spans parented explicitly)."""

    run_inline = True
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self._lock = threading.Lock()
        self._spans: dict[UUID, Any] = {}
        self._parents: dict[UUID, UUID | None] = {}

    def _parent_context(self, parent_run_id: UUID | None):
        return _parent_context(self._spans, self._parents, parent_run_id)

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                       metadata: dict | None = None, **kwargs: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._parents[run_id] = parent_run_id
        node = _node_of(serialized, metadata, kwargs)
        if node is None:
            return
        span = _start_node_span(node, self._parent_context(parent_run_id), metadata, inputs)
        if span is not None:
            with self._lock:
                self._spans[run_id] = span

    def _end(self, run_id: UUID, error: BaseException | None, outputs: Any = None) -> None:
        with self._lock:
            span = self._spans.pop(run_id, None)
            self._parents.pop(run_id, None)
        if span is not None:
            _end_node_span(span, error, outputs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)


def _node_handler_class():
    """The callback handler class (langchain_core is imported only once the instrumentation is enabled)."""
    from langchain_core.callbacks import BaseCallbackHandler

    return type("NodeStepHandler", (_NodeSteps, BaseCallbackHandler), {})


class LangChainInstrumentor(BaseInstrumentor):
    """Agent executions for LangGraph graphs and node steps, on top of the official GenAI LangChain instrumentation."""

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_handler"):
            self._handler: Any = None
            self._official: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from wrapt import wrap_function_wrapper

        try:
            from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor as Official

            official = Official()
            if not official.is_instrumented_by_opentelemetry:
                official.instrument(skip_dep_check=True, tracer_provider=kwargs.get("tracer_provider"))
                self._official = official
        except ImportError:
            log.info("execlog: opentelemetry-instrumentation-genai-langchain is not installed; "
                     "LLM and tool calls are not recorded as steps")
        self._handler = handler = _node_handler_class()()

        def add_handler(wrapped, instance, args, kwargs):
            wrapped(*args, **kwargs)
            if handler.enabled and not any(h is handler for h in instance.inheritable_handlers):
                instance.add_handler(handler, inherit=True)

        wrap_function_wrapper("langchain_core.callbacks", "BaseCallbackManager.__init__", add_handler)
        for module, cls in _TOOL_CLASSES:
            wrap_function_wrapper(module, f"{cls}._run", _tool_run)
            wrap_function_wrapper(module, f"{cls}._arun", _tool_arun)
        try:
            for method in _GRAPH_METHODS:
                wrap_function_wrapper("langgraph.pregel", f"Pregel.{method}", _graph_call(method))
        except (ImportError, AttributeError):
            log.info("execlog: langgraph is not installed; only LangChain calls inside executions are recorded")

    def _uninstrument(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.utils import unwrap

        if self._handler is not None:
            self._handler.enabled = False
        unwrap("langchain_core.callbacks.base.BaseCallbackManager", "__init__")
        for module, cls in _TOOL_CLASSES:
            tool_class = getattr(importlib.import_module(module), cls)
            unwrap(tool_class, "_run")
            unwrap(tool_class, "_arun")
        try:
            import langgraph.pregel

            for method in _GRAPH_METHODS:
                unwrap(langgraph.pregel.Pregel, method)
        except ImportError:
            pass
        if self._official is not None:
            self._official.uninstrument()
            self._official = None
