"""Helpers for the Download Code tests: record executions as real spans, fetch and run replay files.

``Recorder`` writes spans with the OpenTelemetry SDK and the store's exporter, setting
the attributes the SDK contract defines (``code_attributes`` for code, JSON
``execlog.input``/``execlog.output`` of the bound arguments and return value), so
the generator is exercised on what really lands in ClickHouse.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import os
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from execlog_otel import semconv as sc
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.sdk.code_capture import code_attributes
from execlog_otel.sdk.payloads import to_json

_ACTIVE: list[Recorder] = []


def recorded_step(kind: str = "connector"):
    """Decorator: each call is a child span (of the active Recorder) with the function's code,
    bound input and output — the SDK's step contract."""

    def wrap(fn):
        def record(span, args, kwargs):
            bound = inspect.signature(fn).bind(*args, **kwargs)
            span.set_attributes({sc.STEP_KIND: kind, **code_attributes(fn), sc.INPUT: to_json(dict(bound.arguments))})

        def failed(span, exc):
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            span.set_attribute(sc.STEP_STATUS, "Failed")

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def wrapper(*args, **kwargs):
                with _ACTIVE[-1].tracer.start_as_current_span(fn.__name__) as span:
                    record(span, args, kwargs)
                    try:
                        out = await fn(*args, **kwargs)
                    except Exception as exc:
                        failed(span, exc)
                        raise
                    span.set_attribute(sc.OUTPUT, to_json(out))
                    return out
        else:
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                with _ACTIVE[-1].tracer.start_as_current_span(fn.__name__) as span:
                    record(span, args, kwargs)
                    try:
                        out = fn(*args, **kwargs)
                    except Exception as exc:
                        failed(span, exc)
                        raise
                    span.set_attribute(sc.OUTPUT, to_json(out))
                    return out

        return wrapper

    return wrap



class Recorder:
    def __init__(self, store):
        self.provider = TracerProvider(resource=Resource.create({"service.name": "replay-tests"}))
        self.provider.add_span_processor(SimpleSpanProcessor(ClickHouseSpanExporter(store=store)))
        self.tracer = self.provider.get_tracer("execlog_otel")
        _ACTIVE.append(self)

    def close(self) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self.provider.shutdown()

    def run(self, fn, name: str, kind: str = "automation", **kwargs) -> str:
        """Run ``fn(**kwargs)`` as an execution; returns the execution id (trace id)."""
        with self.tracer.start_as_current_span(name) as root:
            root.set_attributes({sc.KIND: kind, sc.EXECUTION_NAME: name, **code_attributes(fn),
                                 sc.INPUT: to_json(kwargs)})
            try:
                out = fn(**kwargs)
                if inspect.isawaitable(out):
                    out = asyncio.run(_awaited(out))
            except Exception as exc:
                root.record_exception(exc)
                root.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
                root.set_attributes({sc.STATUS: "Failed",
                                     sc.VALIDATION_MESSAGE: f"{type(exc).__name__}: {exc}"})
            else:
                root.set_attributes({sc.OUTPUT: to_json(out), sc.STATUS: "Success"})
            return format(root.get_span_context().trace_id, "032x")


async def _awaited(awaitable):
    return await awaitable


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read(), dict(resp.headers)


@dataclass
class Replayed:
    returncode: int
    stdout: str
    stderr: str


def run_replay(path: Path, cwd: Path) -> Replayed:
    """Run a replay file the way a user would: ``python3 file.py``, isolated, clean environment."""
    proc = subprocess.run([sys.executable, "-I", str(path)], cwd=cwd, env={"PATH": os.environ.get("PATH", "")},
                          capture_output=True, text=True, timeout=60)
    return Replayed(proc.returncode, proc.stdout, proc.stderr)


def unzip(body: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def attachment_name(headers: dict[str, Any]) -> str:
    disposition = headers.get("Content-Disposition", "")
    return disposition.split('filename="', 1)[1].rstrip('"') if 'filename="' in disposition else ""
