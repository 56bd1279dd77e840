"""Auto-instrumentation of existing runners: one ``BaseInstrumentor`` per runner, plus the distro.

Each is registered under the ``opentelemetry_instrumentor`` entry point, so
``opentelemetry-instrument`` (with ``OTEL_PYTHON_DISTRO=execlog``) loads them;
in code, ``instrument_all()`` switches on every one whose library is installed.

Each instrumentor declares only its own runner library
(``instrumentation_dependencies()``), and the distribution has no
``instruments`` extra: ``opentelemetry-instrument`` checks that extra for the
whole distribution and, with one library of it missing, skips every
instrumentor the distribution ships — the plain-callables one included, which
needs no library. A runner library that is not installed is reported once, in
one plain line, by ``report_missing()``.
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

# What a user loses when a runner library is missing, by instrumentor (entry point names carry an
# ``execlog_`` prefix).
WHAT: dict[str, str] = {
    "celery": "Celery tasks",
    "langchain": "LangChain / LangGraph runs",
    "openai": "OpenAI client calls",
}

_missing: dict[str, str] = {}  # runner -> requirement not met, until reported
_reported: set[str] = set()


def runner_name(name: str) -> str:
    return name.removeprefix("execlog_")


def missing_requirement(instrumentor: Any) -> str | None:
    """The runner library requirement this instrumentor lacks (None when it can run)."""
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())
    if conflict is None:
        return None
    return str(conflict.required or ", ".join(conflict.required_any or ()))


def note_missing(name: str, requirement: str) -> None:
    """Remember a runner whose library is missing; ``report_missing()`` says it once."""
    name = runner_name(name)
    if name not in _reported:
        _missing[name] = requirement


def report_missing() -> None:
    """One line naming the runner libraries that are not installed (each runner at most once per process).

    Registered as an ``opentelemetry_post_instrument`` entry point, so it runs after
    ``opentelemetry-instrument`` has loaded every instrumentor."""
    pending = {k: v for k, v in _missing.items() if k not in _reported}
    _missing.clear()
    if not pending:
        return
    _reported.update(pending)
    parts = ", ".join(f"{WHAT.get(name, name)} (needs {req})" for name, req in sorted(pending.items()))
    log.warning("execlog: not recorded because their library is not installed: %s; "
                "the other execlog instrumentations are on", parts)


def instrument_all(**kwargs: Any) -> list[str]:
    """Instrument every runner whose library is installed; returns their names."""
    done = []
    for name, path in INSTRUMENTORS.items():
        module_name, cls_name = path.split(":")
        try:
            instrumentor = getattr(importlib.import_module(module_name), cls_name)()
        except ImportError as exc:
            note_missing(name, getattr(exc, "name", None) or str(exc))
            continue
        requirement = missing_requirement(instrumentor)
        if requirement:
            note_missing(name, requirement)
            continue
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(**kwargs)
        done.append(name)
    report_missing()
    return done
