"""Plain callables as automations, named in ``EXECLOG_AUTOMATIONS`` (no code changes).

``EXECLOG_AUTOMATIONS=pkg.jobs:nightly_sync,pkg.jobs:Importer.run`` wraps each
named function (a module attribute, or a dotted path under one) with
``automation(...)``: every call is an execution named after the function, its
bound arguments the input and its return value the output. A module not yet
imported is patched the moment it is imported (a post-import hook), so the
wrapper is in place before ``from pkg.jobs import nightly_sync`` binds the name.
The module must be importable by name; code run as ``__main__`` cannot be
targeted this way (put the job in a module, or decorate it).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Collection, Iterable
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor

from execlog_otel import semconv as sc
from execlog_otel.config import ConfigError, Settings
from execlog_otel.sdk.executions import decorate

log = logging.getLogger(__name__)

_SPEC = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)$")


def parse_targets(entries: Iterable[str]) -> list[tuple[str, str]]:
    """``module:attr.path`` entries -> (module, attr path); a malformed entry raises ValueError saying which."""
    targets = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        m = _SPEC.match(entry)
        if not m:
            raise ValueError(f"EXECLOG_AUTOMATIONS entry {entry!r}: expected module:function "
                             "(e.g. pkg.jobs:nightly_sync or pkg.jobs:Importer.run)")
        if m["module"] == "__main__":
            raise ValueError(f"EXECLOG_AUTOMATIONS entry {entry!r}: the __main__ script cannot be patched before "
                             "it runs; move the function into an importable module")
        targets.append((m["module"], m["attr"]))
    return targets


class CallablesInstrumentor(BaseInstrumentor):
    """Wraps the callables of ``EXECLOG_AUTOMATIONS`` (or ``instrument(automations=[...])``) as automations."""

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_patched"):
            self._patched: list[tuple[Any, str, Any]] = []
            self._pending: set[tuple[str, str]] = set()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        entries = kwargs.get("automations")
        if entries is None:
            try:
                entries = Settings.from_env().automations
            except ConfigError:  # the configurator already said which setting to fix, in one line
                return
        try:
            targets = parse_targets(entries)
        except ValueError as exc:
            log.error("execlog: %s", exc)
            return
        for module, attr in targets:
            if module in sys.modules:
                self._patch(sys.modules[module], module, attr)
            else:
                self._pending.add((module, attr))
                from wrapt import register_post_import_hook

                register_post_import_hook(
                    lambda mod, _m=module, _a=attr: self._patch(mod, _m, _a) if (_m, _a) in self._pending else None,
                    module)

    def _patch(self, module_obj: Any, module: str, attr: str) -> None:
        self._pending.discard((module, attr))
        *owners, name = attr.split(".")
        owner = module_obj
        try:
            for part in owners:
                owner = getattr(owner, part)
            fn = getattr(owner, name)
        except AttributeError:
            log.error("execlog: EXECLOG_AUTOMATIONS entry %s:%s: %s has no attribute %r", module, attr, module,
                      attr)
            return
        if not callable(fn) or getattr(fn, "__execlog_execution__", None):
            if not callable(fn):
                log.error("execlog: EXECLOG_AUTOMATIONS entry %s:%s is not callable", module, attr)
            return
        wrapped = decorate(fn, sc.Kind.AUTOMATION, attr, {"trigger": "call", "retry_target": f"{module}:{attr}"})
        setattr(owner, name, wrapped)
        self._patched.append((owner, name, fn))
        log.debug("execlog: %s:%s runs as an automation", module, attr)

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, name, fn in reversed(self._patched):
            setattr(owner, name, fn)
        self._patched.clear()
        self._pending.clear()
