"""Celery: every task run is an automation execution.

- Execution id: the task id (a UUID, as 32 hex), so the producer, the worker and
  Celery's own retries all speak of the same execution; each run of the task is
  an attempt (``execlog.attempt`` = ``request.retries + 1``) whose root names the
  execution in ``execlog.retry_of``. The execution's start is the publish time
  (message header ``execlog_execution_start_ns``, set when the message is sent
  by an instrumented process, kept across retries).
- States: published -> Pending (producer side), received by a worker -> Queued
  (waiting for a pool slot, its ETA or its rate limit), running -> Running,
  then SUCCESS -> Success, FAILURE -> Failed (exception type and message),
  RETRY -> that attempt Failed with the retry reason and the next one Queued,
  a time limit hit (``SoftTimeLimitExceeded`` / ``TimeLimitExceeded``) or the
  ``soft_time_limit`` / ``time_limit`` passed -> Rejected, revoked (expired or
  terminated) -> Rejected. Steps recorded with ``execlog_otel.step`` inside a
  task (and spans of other instrumentations) are its steps.
- Input and trigger payload: the task's arguments bound to its signature
  (``{"order_id": 7}``; ``{"args": [...], "kwargs": {...}}`` when they do not bind).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from execlog_otel import semconv as sc
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import attempt_of, current_attempt
from execlog_otel.sdk.code_capture import code_attributes
from execlog_otel.sdk.executions import Execution, fingerprint, record_detached_state, retry_target_of
from execlog_otel.sdk.runtime import RUNTIME
from execlog_otel.sdk.wrapping import bound_input, signature_of

log = logging.getLogger(__name__)

START_HEADER = "execlog_execution_start_ns"
_instruments = ("celery >= 5.0",)


def execution_id_of(task_id: str) -> str:
    """The execution id of a task id: the UUID's 32 hex digits (any other id: a stable hash of it)."""
    try:
        return uuid.UUID(str(task_id)).hex
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_OID, str(task_id)).hex


def _header(request: Any, key: str) -> Any:
    """A message header from a task's request context or a worker's Request."""
    value = getattr(request, key, None)
    if value is not None:
        return value
    for name in ("headers", "request_dict", "_request_dict"):
        mapping = getattr(request, name, None)
        if isinstance(mapping, dict) and mapping.get(key) is not None:
            return mapping[key]
    return None


def _task_name(request: Any) -> str:
    """The task name of a worker Request (or a task's request context)."""
    for value in (getattr(request, "task_name", None), getattr(getattr(request, "task", None), "name", None),
                  _header(request, "task"), getattr(request, "name", None)):
        if isinstance(value, str) and value:
            return value
    return "celery task"


def _task_function(task: Any) -> Any:
    run = getattr(task, "run", None)
    return getattr(run, "__func__", run)


def _rerun(task: Any) -> Any:
    """What the retry listener calls to re-run a task: ``task.apply`` in this process (Celery's signals fire,
    so the run is recorded, as the attempt the listener's ``attempt_of`` names), failures re-raised."""
    def rerun(**kwargs: Any) -> Any:
        return task.apply(kwargs=kwargs, throw=True).get()

    rerun.__name__ = rerun.__qualname__ = str(task.name)
    rerun.__module__ = getattr(_task_function(task), "__module__", __name__)
    signature = signature_of(task.run)
    if signature is not None:
        rerun.__signature__ = signature  # type: ignore[attr-defined]
    return rerun


RunKey = tuple[str, int]


def _run_key(task_id: str, request: Any) -> RunKey:
    """A run of a task: its id and its retry number. A retry keeps the task id, and its run can start (on
    another worker thread or process) before the previous run's last signal has been handled."""
    return task_id, int(_header(request, "retries") or 0)


class _TaskRuns:
    """Executions of the task runs in progress in this worker, by task id and retry number."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[RunKey, Execution] = {}
        self.errors: dict[RunKey, BaseException] = {}
        self.retry_reasons: dict[RunKey, str] = {}


class CeleryInstrumentor(BaseInstrumentor):
    """Records Celery task runs as automation executions (connects to Celery's signals)."""

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_state"):
            self._state = _TaskRuns()
            self._connected: list[tuple[Any, Any]] = []

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from celery import signals

        for signal, handler in ((signals.before_task_publish, self._before_publish),
                                (signals.task_received, self._received),
                                (signals.task_prerun, self._prerun),
                                (signals.task_failure, self._failure),
                                (signals.task_retry, self._retry),
                                (signals.task_postrun, self._postrun),
                                (signals.task_revoked, self._revoked),
                                (signals.worker_ready, self._worker_ready)):
            signal.connect(handler, weak=False)
            self._connected.append((signal, handler))

    def _uninstrument(self, **kwargs: Any) -> None:
        for signal, handler in self._connected:
            signal.disconnect(handler)
        self._connected.clear()

    def _worker_ready(self, sender: Any = None, **_: Any) -> None:
        """Register every task of the worker's app, so a retry from the viewer finds it after a restart."""
        try:
            app = getattr(sender, "app", None)
            for name, task in (getattr(app, "tasks", None) or {}).items():
                if not name.startswith("celery."):
                    registry.register(name, sc.Kind.AUTOMATION, _rerun(task), fingerprint({"task": name}))
        except Exception:  # noqa: BLE001
            log.debug("execlog: worker_ready", exc_info=True)

    # -- producer side ---------------------------------------------------------------
    def _before_publish(self, sender: Any = None, headers: dict | None = None, body: Any = None,
                        **kwargs: Any) -> None:
        try:
            if headers is None or "task" not in headers:
                return
            task_id = headers.get("id")
            if not task_id:
                return
            retries = int(headers.get("retries") or 0)
            start = headers.get(START_HEADER)
            if start is None:
                # A retry re-sends the message from the worker: keep the execution's start.
                run = self._state.runs.get((task_id, retries - 1))
                start = run.execution_start_ns if run is not None else time.time_ns()
                headers[START_HEADER] = start
            record_detached_state(sc.Kind.AUTOMATION, str(headers["task"]),
                                  sc.Status.PENDING if retries == 0 else sc.Status.QUEUED,
                                  execution_id=execution_id_of(task_id), execution_start_ns=int(start),
                                  attempt=retries + 1, attributes={sc.REQUEST_ID: task_id, sc.TRIGGER: "celery"})
        except Exception:  # noqa: BLE001 - recording must never stop a message from being sent
            log.debug("execlog: before_task_publish", exc_info=True)

    # -- worker side ------------------------------------------------------------------
    def _received(self, sender: Any = None, request: Any = None, **kwargs: Any) -> None:
        try:
            task_id = getattr(request, "id", None)
            start = _header(request, START_HEADER) or time.time_ns()
            retries = int(_header(request, "retries") or 0)
            record_detached_state(sc.Kind.AUTOMATION, _task_name(request),
                                  sc.Status.QUEUED, execution_id=execution_id_of(task_id),
                                  execution_start_ns=int(start), attempt=retries + 1,
                                  attributes={sc.REQUEST_ID: task_id, sc.TRIGGER: "celery"})
        except Exception:  # noqa: BLE001
            log.debug("execlog: task_received", exc_info=True)

    def _prerun(self, sender: Any = None, task_id: str | None = None, task: Any = None, args: Any = None,
                kwargs: Any = None, **_: Any) -> None:
        try:
            request = task.request
            fn = _task_function(task)
            retries = int(getattr(request, "retries", 0) or 0)
            start = _header(request, START_HEADER)
            execution_id = execution_id_of(task_id)
            trigger_config = {"task": task.name}
            timeout = getattr(task, "soft_time_limit", None) or getattr(task, "time_limit", None)
            limits = getattr(request, "timelimit", None) or (None, None)
            timeout = timeout or (limits[1] if limits and limits[1] else None) or \
                (limits[0] if limits and limits[0] else None)
            # The bound ``run`` (no ``self`` for bind=True tasks) is what the arguments bind to.
            input_value = bound_input(signature_of(task.run), tuple(args or ()), dict(kwargs or {}))
            run = Execution(sc.Kind.AUTOMATION, task.name, input=input_value, trigger="celery",
                            trigger_config=trigger_config, timeout=float(timeout) if timeout else None,
                            retry_target=retry_target_of(fn) if fn else None, request_id=task_id,
                            triggered_by=getattr(request, "origin", None) or None,
                            attributes={"celery.task_id": task_id, "celery.retries": retries})
            if fn is not None:
                s = RUNTIME.settings
                run.set_code(code_attributes(fn, capture_source=s.capture_code, max_bytes=s.payload_cap_bytes))
                registry.register(task.name, sc.Kind.AUTOMATION, _rerun(task), fingerprint(trigger_config))
            retry = current_attempt()
            if retry is not None:  # a retry from the viewer, run here by the retry listener (``task.apply``)
                run.start()
            else:
                with attempt_of(execution_id, retries + 1, int(start) if start else time.time_ns()):
                    run.start()
            with self._state.lock:
                self._state.runs[_run_key(task_id, request)] = run
        except Exception:  # noqa: BLE001 - the task runs whether or not it is recorded
            log.warning("execlog: could not record the start of task %s", task_id, exc_info=True)

    def _failure(self, sender: Any = None, task_id: str | None = None, exception: BaseException | None = None,
                 **_: Any) -> None:
        if task_id and exception is not None:
            with self._state.lock:
                self._state.errors[_run_key(task_id, getattr(sender, "request", None))] = exception

    def _retry(self, sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
        task_id = getattr(request, "id", None)
        if task_id:
            with self._state.lock:
                self._state.retry_reasons[_run_key(task_id, request)] = str(reason)

    def _postrun(self, sender: Any = None, task_id: str | None = None, task: Any = None, retval: Any = None,
                 state: str | None = None, **_: Any) -> None:
        key = _run_key(task_id, getattr(task, "request", None)) if task_id else None
        with self._state.lock:
            run = self._state.runs.pop(key, None)
            error = self._state.errors.pop(key, None)
            reason = self._state.retry_reasons.pop(key, None)
        if run is None:
            return
        try:
            if state == "RETRY":
                run.set_status(sc.Status.FAILED, f"Retry: {reason or retval}")
                run.end()
            elif error is not None or state == "FAILURE":
                error = error if error is not None else (retval if isinstance(retval, BaseException) else None)
                name = type(error).__name__ if error is not None else ""
                if name in ("SoftTimeLimitExceeded", "TimeLimitExceeded"):
                    run.set_status(sc.Status.REJECTED, f"{name}: ran past its time limit")
                    run.end()
                else:
                    run.end(error if error is not None else RuntimeError(f"task ended {state}"))
            else:
                run.set_output(retval)
                run.end()
        except Exception:  # noqa: BLE001
            log.warning("execlog: could not record the end of task %s", task_id, exc_info=True)

    def _revoked(self, sender: Any = None, request: Any = None, terminated: bool = False, expired: bool = False,
                 **_: Any) -> None:
        task_id = getattr(request, "id", None)
        if not task_id:
            return
        why = "expired before it ran" if expired else ("terminated" if terminated else "revoked")
        with self._state.lock:
            run = self._state.runs.pop(_run_key(task_id, request), None)
        try:
            if run is not None:
                run.set_status(sc.Status.REJECTED, f"Revoked: {why}")
                run.end()
                return
            start = _header(request, START_HEADER) or time.time_ns()
            record_detached_state(sc.Kind.AUTOMATION, _task_name(request),
                                  sc.Status.REJECTED, execution_id=execution_id_of(task_id),
                                  execution_start_ns=int(start),
                                  attempt=int(_header(request, "retries") or 0) + 1, message=f"Revoked: {why}",
                                  attributes={sc.REQUEST_ID: task_id, sc.TRIGGER: "celery"})
        except Exception:  # noqa: BLE001
            log.debug("execlog: task_revoked", exc_info=True)


__all__ = ["CeleryInstrumentor", "execution_id_of"]
