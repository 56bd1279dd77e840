"""Payloads (inputs, outputs, trigger payloads) as span attributes.

Any value becomes JSON: JSON types as they are, pydantic models, dataclasses,
dates, sets, bytes and the like through a readable fallback, anything else as
its ``repr`` (``<unrepresentable Type>`` when that raises). Values under keys
that look secret (``Settings.redact_keys`` fragments: password, token, api_key,
...) are masked; a hook set with ``configure(redact=...)`` sees every payload
after that. A payload longer than
the cap (``Settings.payload_cap_bytes``) is cut at the cap and marked with
``<key>.truncated = true`` and ``<key>.original_size = <bytes>``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import orjson

from execlog_otel import semconv as sc
from execlog_otel.sdk.context import type_name, unrepresentable
from execlog_otel.sdk.loggable import MASK as MASK  # re-exported: the mask is part of the payload contract
from execlog_otel.sdk.loggable import MAX_DEPTH, dumps, json_fallback, masked, normalized
from execlog_otel.sdk.runtime import RUNTIME

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def _normalized(fragments: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in (normalized(f) for f in fragments) if n))


# The plain path encodes with orjson (a tenth of json.dumps' time); what it would convert on its
# own terms (dataclasses, datetimes, subclasses of str/int/dict/list) it raises on instead, so those
# take the masking walk and json_fallback as before. Its text equals json.dumps' except for NaN/Infinity
# (null) and floats under 1e-4 (0.00001, 1e-7 for 1e-05, 1e-07): when any of those can be in the
# text, json.dumps' spelling is kept (a false alarm from a string only costs the slower encoder).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_PLAIN_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SMALL_EXPONENT = re.compile(r"[0-9]e-[0-9]")
# ASCII text normalised as loggable.normalized does, in one C pass: drop every byte but letters and digits,
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
        norm = normalized(text)
    for fragment in _normalized(fragments):
        if fragment in norm:
            return None
    return text


def to_json(value: Any, key: str = sc.INPUT) -> str:
    """``value`` as compact JSON, secrets masked and the redaction hook applied; never raises."""
    runtime = RUNTIME
    shown: Any = _HIDDEN  # the value as far as masking and the redaction hook let it be shown
    try:
        if runtime.redactor is None:
            plain = _plain_json(value, runtime.settings.redact_keys)
            if plain is not None:
                return plain
        value = masked(value, runtime.settings.redact_keys)
        if runtime.redactor is not None:
            value = runtime.redactor(key, value)
        shown = value
        return dumps(value)
    except Exception as exc:  # noqa: BLE001 - recording must never break the user's code
        log.debug("payload %s could not be encoded: %s", key, type_name(exc))
        return _unserializable(shown, value)


_HIDDEN: Any = object()


def _unserializable(shown: Any, value: Any) -> str:
    """What is recorded for a payload that could not be encoded: a readable stand-in of it masked and
    redacted; when masking or the redaction hook failed, or the stand-in itself fails (a ``repr`` that
    raises, a dataclass holding such a value), only its type: the raw value may hold what they hide."""
    if shown is _HIDDEN:
        return json.dumps({"unserializable": f"<{type_name(value)} withheld: masking or the redaction hook failed>"})
    try:
        stand_in = repr(shown) if isinstance(shown, Mapping) else json_fallback(shown)
        return json.dumps({"unserializable": stand_in})
    except Exception:  # noqa: BLE001 - the fallback runs in to_json's "never raises"
        return json.dumps({"unserializable": unrepresentable(value)})


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
