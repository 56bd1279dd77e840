"""A value as the log records it: JSON, with a readable fallback and secret-looking keys masked.

One module for the two places that must agree: the SDK encodes payloads with it
(``payloads.py``), and every Download Code file inlines this very text
(``replay/generate.py``), so a replayed output is encoded and masked exactly as
the logged one was and the two cannot drift.

Constraints that inlining imposes: the standard library only, no ``from __future__``
import, and nothing that needs a module of its own (the file places this text in
a function body and reads the names it defines).
"""

import base64
import dataclasses
import datetime
import decimal
import enum
import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

MASK = "***"
MAX_REPR = 2048
MAX_DEPTH = 32
SEPARATORS = re.compile(r"[^a-z0-9]+")


def normalized(text: str) -> str:
    """``text`` compared as key fragments are: lower case, letters and digits only (X-Api-Key -> xapikey)."""
    return SEPARATORS.sub("", text.lower())


@functools.lru_cache(maxsize=8192)
def is_secret_key(key: str, fragments: tuple[str, ...]) -> bool:
    """Whether ``key`` looks like a secret: a redact fragment occurs in it, compared without separators
    and case so api_key, apiKey and X-Api-Key all match "api_key". Token *counts* (input_tokens,
    max_tokens, token_count) are numbers, not credentials."""
    norm = normalized(key)
    if norm.endswith("tokens") or "tokencount" in norm:
        return False
    return any(normalized(f) in norm for f in fragments if f)


def _bytes_value(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


def _set_value(value: Any) -> list[Any]:
    try:
        return sorted(value)
    except TypeError:
        return list(value)


def _object_value(value: Any) -> Any:
    """A pydantic model or a dataclass as an object; anything else as its (bounded) repr, or
    ``<unrepresentable Type>`` when its ``__repr__`` raises."""
    dump = getattr(value, "model_dump", None)  # pydantic v2
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # noqa: BLE001 - fall through to repr
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that raises must not cost the rest of the value
        return "<unrepresentable " + type(value).__qualname__ + ">"
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."


# Readable stand-ins, first match wins: (types, conversion).
_CONVERSIONS = (
    ((datetime.datetime, datetime.date, datetime.time), lambda v: v.isoformat()),
    (datetime.timedelta, lambda v: v.total_seconds()),
    ((decimal.Decimal, uuid.UUID, PurePath), str),
    (enum.Enum, lambda v: v.value),
    ((bytes, bytearray, memoryview), lambda v: _bytes_value(bytes(v))),
    ((set, frozenset), _set_value),
)


def json_fallback(value: Any) -> Any:
    """A JSON-friendly stand-in for a value json cannot encode."""
    for types, convert in _CONVERSIONS:
        if isinstance(value, types):
            return convert(value)
    return _object_value(value)


def masked(value: Any, fragments: tuple[str, ...], fallback: Callable[[Any], Any] = json_fallback,
           depth: int = 0) -> Any:
    """A copy of ``value`` with secret-looking keys masked (containers only are copied); values json
    cannot encode go through ``fallback`` first, so what they turn into is masked too."""
    if depth > MAX_DEPTH:
        return "..."
    # Exact-type checks first: isinstance against the Mapping ABC is slow, and the SDK runs this for
    # every value of every payload (benchmarks/sdk_overhead.py).
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    if t is list:
        return [masked(v, fragments, fallback, depth + 1) for v in value]
    if t is dict or isinstance(value, Mapping):
        return {k: (MASK if isinstance(k, str) and is_secret_key(k, fragments) and v not in (None, "")
                    else masked(v, fragments, fallback, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v, fragments, fallback, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    converted = fallback(value)
    if isinstance(converted, (Mapping, list)):
        return masked(converted, fragments, fallback, depth + 1)
    return converted


def dumps(value: Any, fallback: Callable[[Any], Any] = json_fallback) -> str:
    """Compact JSON text as the log holds it (non-ASCII kept, ``fallback`` for the rest)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=fallback)
