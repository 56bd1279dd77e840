"""``OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python app.py`` needs nothing else.

The distro makes the ``execlog`` configurator the one that runs; the
configurator calls ``execlog_otel.configure()`` (target from ``EXECLOG_*``:
the local ``execlog serve`` by default, or ClickHouse with
``EXECLOG_CLICKHOUSE_URL``) before the instrumentors load, so the Celery,
LangChain/LangGraph, OpenAI and callables instrumentations all record into it.
"""

from __future__ import annotations

import functools
import logging
import os
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.sdk._configuration import _BaseConfigurator
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from execlog_otel.instrumentation import missing_requirement, note_missing

log = logging.getLogger(__name__)


GROUP = "opentelemetry_instrumentor"


def _libraries(instrumentor: Any) -> frozenset[str]:
    """The distributions an instrumentor instruments (``openai``, ``langchain-core``), from its requirements."""
    names = set()
    for requirement in instrumentor.instrumentation_dependencies() or ():
        try:
            names.add(canonicalize_name(Requirement(requirement).name))
        except InvalidRequirement:
            continue
    return frozenset(names)


def _rank(entry_point: Any) -> int:
    """execlog's instrumentors first, OpenTelemetry's next (execlog builds on them), then any other's."""
    if entry_point.name.startswith("execlog_"):
        return 0
    dist = canonicalize_name(entry_point.dist.name) if getattr(entry_point, "dist", None) else ""
    return 1 if dist.startswith("opentelemetry-") else 2


@functools.cache
def _covered() -> dict[str, str]:
    """Library -> the distribution of the execlog or OpenTelemetry instrumentor installed for it."""
    out: dict[str, str] = {}
    for entry_point in sorted(entry_points(group=GROUP), key=_rank):
        if _rank(entry_point) > 1:
            break
        try:
            libraries = _libraries(entry_point.load()())
        except Exception:  # noqa: BLE001 - one that cannot load covers nothing (opentelemetry-instrument says why)
            continue
        for library in libraries:
            out.setdefault(library, entry_point.dist.name if getattr(entry_point, "dist", None) else entry_point.name)
    return out


class ExeclogDistro(BaseDistro):
    def _configure(self, **kwargs: Any) -> None:
        os.environ.setdefault("OTEL_PYTHON_CONFIGURATOR", "execlog")

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        # opentelemetry-instrument checked the distribution's ``instruments`` extra (execlog has none);
        # each execlog instrumentor's own runner library is checked here, and a missing one is noted for
        # the single report_missing() line instead of failing on import, silently.
        try:
            instrumentor = entry_point.load()()
        except ImportError as exc:
            if not entry_point.name.startswith("execlog_"):
                raise
            note_missing(entry_point.name, getattr(exc, "name", None) or str(exc))
            return
        if entry_point.name.startswith("execlog_"):
            requirement = missing_requirement(instrumentor)
            if requirement:
                note_missing(entry_point.name, requirement)
                return
        elif _rank(entry_point) > 1:
            # A second instrumentor of a library records every call again: a model call under a model call,
            # its tokens and cost counted twice (openinference-instrumentation-openai beside OpenTelemetry's).
            taken = {lib: by for lib in _libraries(instrumentor) if (by := _covered().get(lib))}
            if taken:
                log.info("execlog: not loading %s: %s already recorded by %s", entry_point.value,
                         ", ".join(sorted(taken)), ", ".join(sorted(set(taken.values()))))
                return
        # execlog's instrumentors switch on the official GenAI ones they build on; when the official
        # entry point comes later, it finds its instrumentor on already: skip it quietly.
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**kwargs)


class ExeclogConfigurator(_BaseConfigurator):
    def _configure(self, **kwargs: Any) -> None:
        from execlog_otel.config import ConfigError
        from execlog_otel.sdk.telemetry import configure

        try:
            configure()
        except ConfigError as exc:  # say what to fix; the application still runs, unrecorded
            log.error("execlog: not recording executions: %s", exc)
