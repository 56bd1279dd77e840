"""Process-wide SDK state: the settings in force, the redaction hook and the tracer.

``configure()`` replaces this state; everything else reads it. Reads are plain
attribute lookups so ``step()`` stays cheap; ``generation`` changes whenever the
state does, which lets callers cache what they derive from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import trace

from execlog_otel.config import Settings

TRACER_NAME = "execlog_otel"

# A redaction hook: (attribute key, value) -> value to record.
Redactor = Callable[[str, Any], Any]


class Runtime:
    __slots__ = ("settings", "redactor", "tracer", "generation", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation = 0
        self.redactor: Redactor | None = None
        self.tracer: trace.Tracer = trace.get_tracer(TRACER_NAME)  # proxy until configure()
        self.settings: Settings = _initial_settings()

    def update(self, settings: Settings, tracer: trace.Tracer | None, redactor: Redactor | None) -> None:
        with self.lock:
            self.settings = settings
            if tracer is not None:
                self.tracer = tracer
            self.redactor = redactor
            self.generation += 1


def _initial_settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError:  # a bad EXECLOG_* value: configure() reports it; record with defaults meanwhile
        return Settings.from_env(environ={})


RUNTIME = Runtime()
