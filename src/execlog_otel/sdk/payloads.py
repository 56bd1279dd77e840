"""Payloads (inputs, outputs, trigger payloads) as span attributes.

Any value becomes JSON: JSON types as they are, pydantic models, dataclasses,
dates, sets, bytes and the like through a readable fallback, anything else as
its ``repr``. Values under keys that look secret (``Settings.redact_keys``
fragments: password, token, api_key, ...) are masked; a hook set with
``configure(redact=...)`` sees every payload after that. A payload longer than
the cap (``Settings.payload_cap_bytes``) is cut at the cap and marked with
``<key>.truncated = true`` and ``<key>.original_size = <bytes>``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import functools
import json
import logging
import re
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import orjson

from execlog_otel import semconv as sc
from execlog_otel.sdk.runtime import RUNTIME

log = logging.getLogger(__name__)

MASK = "***"
MAX_REPR = 2048
MAX_DEPTH = 32
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=8192)
def _is_secret_key(key: str, fragments: tuple[str, ...]) -> bool:
    # Compare without separators and case so api_key, apiKey and X-Api-Key all match "api_key";
    # token *counts* (input_tokens, max_tokens, token_count) are numbers, not credentials.
    norm = _SEPARATORS.sub("", key.lower())
    if norm.endswith("tokens") or "tokencount" in norm:
        return False
    return any(_SEPARATORS.sub("", f.lower()) in norm for f in fragments if f)


def _fallback(value: Any) -> Any:
    """A JSON-friendly stand-in for a value json cannot encode."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    dump = getattr(value, "model_dump", None)  # pydantic v2
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # noqa: BLE001 - fall through to repr
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    text = repr(value)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."


def _mask(value: Any, fragments: tuple[str, ...], depth: int = 0) -> Any:
    """A copy of ``value`` with secret-looking keys masked (containers only are copied)."""
    if depth > MAX_DEPTH:
        return "..."
    # Exact-type checks first: isinstance against the Mapping ABC is slow, and this runs for every
    # value of every payload (benchmarks/sdk_overhead.py).
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    if t is dict:
        return {k: (MASK if isinstance(k, str) and _is_secret_key(k, fragments) and v not in (None, "")
                    else _mask(v, fragments, depth + 1)) for k, v in value.items()}
    if t is list:
        return [_mask(v, fragments, depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {k: (MASK if isinstance(k, str) and _is_secret_key(k, fragments) and v not in (None, "")
                    else _mask(v, fragments, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(v, fragments, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    converted = _fallback(value)
    if isinstance(converted, (Mapping, list)):
        return _mask(converted, fragments, depth + 1)
    return converted


@functools.lru_cache(maxsize=64)
def _normalized(fragments: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in (_SEPARATORS.sub("", f.lower()) for f in fragments) if n))


# The plain path encodes with orjson (a tenth of json.dumps' time); what it would convert on its
# own terms (dataclasses, datetimes, subclasses of str/int/dict/list) it raises on instead, so those
# take the masking walk and _fallback as before. Its text equals json.dumps' except for NaN/Infinity
# (null) and floats under 1e-4 (0.00001, 1e-7 for 1e-05, 1e-07): when any of those can be in the
# text, json.dumps' spelling is kept (a false alarm from a string only costs the slower encoder).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_PLAIN_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SMALL_EXPONENT = re.compile(r"[0-9]e-[0-9]")
# ASCII text normalised as _SEPARATORS does, in one C pass: drop every byte but letters and digits,
# lower-case the upper-case letters.
_NOT_ALNUM = bytes(b for b in range(128) if not chr(b).isalnum()) + bytes(range(128, 256))
_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _plain_json(value: Any, fragments: tuple[str, ...]) -> str | None:
    """The JSON of a value made of JSON types only, shallower than MAX_DEPTH, in whose text no
    secret key fragment occurs — so the masking walk could change nothing and is skipped (it costs
    more than the span itself). None when any of that does not hold."""
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS).decode("utf-8")
    except (TypeError, ValueError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        return None
    if "null" in text or "0.0000" in text or ("e-" in text and _SMALL_EXPONENT.search(text)):
        try:
            text = _PLAIN_ENCODER.encode(value)
        except (TypeError, ValueError, RecursionError):
            return None
    if text.count("{") + text.count("[") > MAX_DEPTH:
        return None
    if text.isascii():
        norm = text.encode("ascii").translate(_ASCII_LOWER, _NOT_ALNUM).decode("ascii")
    else:  # str.lower() can turn a non-ASCII letter into an ASCII one (KELVIN SIGN -> k)
        norm = _SEPARATORS.sub("", text.lower())
    for fragment in _normalized(fragments):
        if fragment in norm:
            return None
    return text


def to_json(value: Any, key: str = sc.INPUT) -> str:
    """``value`` as compact JSON, secrets masked and the redaction hook applied; never raises."""
    runtime = RUNTIME
    try:
        if runtime.redactor is None:
            plain = _plain_json(value, runtime.settings.redact_keys)
            if plain is not None:
                return plain
        value = _mask(value, runtime.settings.redact_keys)
        if runtime.redactor is not None:
            value = runtime.redactor(key, value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_fallback)
    except Exception as exc:  # noqa: BLE001 - recording must never break the user's code
        log.debug("payload %s could not be encoded: %s", key, exc)
        return json.dumps({"unserializable": _fallback(value) if not isinstance(value, Mapping) else repr(value)})


def capped(key: str, text: str, cap: int | None = None) -> dict[str, Any]:
    """Attributes for a payload text: ``{key: text}``, cut at the cap with the truncation markers."""
    cap = RUNTIME.settings.payload_cap_bytes if cap is None else cap
    if cap <= 0 or len(text) * 4 <= cap:  # at most 4 bytes per character: surely under the cap
        return {key: text}
    raw = text.encode("utf-8")
    if len(raw) <= cap:
        return {key: text}
    return {key: raw[:cap].decode("utf-8", errors="ignore"),
            key + sc.TRUNCATED_SUFFIX: True,
            key + sc.ORIGINAL_SIZE_SUFFIX: len(raw)}


def payload_attributes(key: str, value: Any) -> dict[str, Any]:
    """``value`` as the attributes of payload ``key`` (JSON, masked, capped)."""
    return capped(key, to_json(value, key))


def set_payload(span: Any, key: str, value: Any) -> dict[str, Any]:
    """Record payload ``key`` on ``span``; returns the attributes set (markers reset if shorter now)."""
    text = to_json(value, key)
    cap = RUNTIME.settings.payload_cap_bytes
    truncated_key = key + sc.TRUNCATED_SUFFIX
    previous = getattr(span, "attributes", None)
    if (cap <= 0 or len(text) * 4 <= cap) and not (previous and previous.get(truncated_key)):
        # The common case, surely under the cap and never cut before: one plain attribute.
        span.set_attribute(key, text)
        return {key: text}
    attrs = capped(key, text, cap)
    if truncated_key not in attrs and previous and previous.get(truncated_key):
        attrs[truncated_key] = False
        attrs[key + sc.ORIGINAL_SIZE_SUFFIX] = len(attrs[key].encode("utf-8"))
    span.set_attributes(attrs)
    return attrs
