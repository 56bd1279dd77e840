"""``OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python app.py`` needs nothing else.

The distro makes the ``execlog`` configurator the one that runs; the
configurator calls ``execlog_otel.configure()`` (target from ``EXECLOG_*``:
the local ``execlog serve`` by default, or ClickHouse with
``EXECLOG_CLICKHOUSE_URL``) before the instrumentors load, so the Celery,
LangChain/LangGraph, OpenAI and callables instrumentations all record into it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.sdk._configuration import _BaseConfigurator

from execlog_otel.instrumentation import missing_requirement, note_missing

log = logging.getLogger(__name__)


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
