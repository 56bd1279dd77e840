"""Auto-instrumentation of existing runners: one ``BaseInstrumentor`` per runner, plus the distro.

Each is registered under the ``opentelemetry_instrumentor`` entry point, so
``opentelemetry-instrument`` (with ``OTEL_PYTHON_DISTRO=execlog``) loads them;
in code, ``instrument_all()`` switches on every one whose library is installed.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

log = logging.getLogger(__name__)

INSTRUMENTORS = {
    "celery": "execlog_otel.instrumentation.celery:CeleryInstrumentor",
    "langchain": "execlog_otel.instrumentation.langchain:LangChainInstrumentor",
    "openai": "execlog_otel.instrumentation.openai:OpenAIInstrumentor",
    "callables": "execlog_otel.instrumentation.callables:CallablesInstrumentor",
}


def instrument_all(**kwargs: Any) -> list[str]:
    """Instrument every runner whose library is installed; returns their names."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    done = []
    for name, path in INSTRUMENTORS.items():
        module_name, cls_name = path.split(":")
        try:
            instrumentor = getattr(importlib.import_module(module_name), cls_name)()
        except ImportError as exc:
            log.debug("execlog: %s instrumentation unavailable: %s", name, exc)
            continue
        if get_dependency_conflicts(instrumentor.instrumentation_dependencies()):
            continue
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**kwargs)
        done.append(name)
    return done
