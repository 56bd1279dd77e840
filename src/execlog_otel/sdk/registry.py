"""Executions this runner knows, by name: what the retry listener can re-run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Registered:
    name: str
    kind: str  # semconv.Kind value
    fn: Callable[..., Any]
    trigger_fingerprint: str = ""


_lock = threading.Lock()
_by_name: dict[str, Registered] = {}


def register(name: str, kind: str, fn: Callable[..., Any], trigger_fingerprint: str = "") -> None:
    with _lock:
        _by_name[name] = Registered(name, kind, fn, trigger_fingerprint)


def get(name: str) -> Registered | None:
    return _by_name.get(name)


def names() -> list[str]:
    return sorted(_by_name)
