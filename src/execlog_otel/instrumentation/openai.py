"""The OpenAI Python client, through OpenTelemetry's official GenAI instrumentation.

``opentelemetry-instrumentation-genai-openai`` records every chat / responses /
embeddings call as a ``chat <model>`` span with ``gen_ai.request.model``,
``gen_ai.response.model`` and ``gen_ai.usage.*`` tokens; inside an execution
those spans are its LLM steps, and the execution's models and tokens roll up
from them in ClickHouse. This instrumentor switches it on (under
``opentelemetry-instrument`` it is found by its own entry point too; switching
it on twice is a no-op) so ``execlog_otel.instrumentation.instrument_all()`` and
code that only knows this package get it as well.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

log = logging.getLogger(__name__)

_instruments = ("openai >= 1.26.0",)


class OpenAIInstrumentor(BaseInstrumentor):
    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_official"):
            self._official: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        try:
            from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as Official
        except ImportError:
            log.warning("execlog: install opentelemetry-instrumentation-genai-openai to record OpenAI calls")
            return
        official = Official()
        if not official.is_instrumented_by_opentelemetry:
            official.instrument(skip_dep_check=True, **{k: v for k, v in kwargs.items() if k != "skip_dep_check"})
            self._official = official

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._official is not None:
            self._official.uninstrument()
            self._official = None
