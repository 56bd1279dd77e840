"""OTLP JSON bodies of any signal as protobuf messages, so one protobuf mapping serves both encodings.

OTLP JSON is the protobuf JSON mapping with two differences (OTLP specification, JSON Protobuf
Encoding): trace and span ids are hex, not base64, and enum fields may be integers. Ids are turned
into base64 and the message is parsed with protobuf's own ``json_format``; unknown fields are ignored,
as the specification asks of receivers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class JsonPayloadError(ValueError):
    pass


def camel_keys(value: Any) -> Any:
    """``value`` with every object key in lowerCamelCase (attribute names are values, never keys): OTLP JSON's
    names, where protobuf's JSON parsers also take the proto field names (resource_spans, span_id)."""
    if isinstance(value, dict):
        return {_camel(k): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _ids_to_base64(node: Any, depth: int = 0) -> Any:
    if depth > 64:
        raise JsonPayloadError("body is not valid OTLP JSON: it is nested too deeply")
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise JsonPayloadError(f"{key} {value[:40]!r} is not hex") from None
            else:
                value = _ids_to_base64(value, depth + 1)
            out[key] = value
        return out
    if isinstance(node, list):
        return [_ids_to_base64(v, depth + 1) for v in node]
    return node


# How deep a record's object is in its request (the top object, then a list and an object for resources,
# scopes and records): a record checked alone is held to the request's nesting limit.
RECORD_DEPTH = 6


@dataclass(frozen=True)
class Leaves:
    """Where a signal's records are in its request (``resourceLogs[].scopeLogs[].logRecords[]``), so one that
    does not decode can be refused alone: its message class, the keys of the two lists above it, and how
    many data items one record holds (a metric's points) and what to call it in a reason."""

    scope_key: str
    record_key: str
    record_class: type[Message]
    count: Callable[[dict[str, Any]], int]
    label: Callable[[dict[str, Any]], str]


def parse(body: bytes, message: Message, top_key: str, leaves: Leaves | None = None,
          refused: list[tuple[int, str]] | None = None) -> Message:
    """Fill ``message`` from an OTLP JSON body whose top level holds ``top_key`` (e.g. resourceLogs). Given
    ``leaves`` and ``refused``, a record that does not decode is left out and noted in ``refused`` (how many
    items it held, why) instead of refusing the whole body."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise JsonPayloadError("body is not valid OTLP JSON: it is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonPayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise JsonPayloadError(f"body must be a JSON object with a {top_key} list")
    try:
        return _fill(data, message)
    except JsonPayloadError:
        if leaves is None or refused is None:
            raise
    data = camel_keys(data)  # the proto field names too (log_records), as the parser takes them
    keep_records(data, top_key, leaves.scope_key, leaves.record_key, lambda r: _decodes(r, leaves, refused))
    message.Clear()
    return _fill(data, message)


def _fill(data: dict[str, Any], message: Message, depth: int = 0) -> Message:
    """``message`` filled from ``data`` (found ``depth`` levels down its request: the nesting limit is the
    request's)."""
    try:
        json_format.ParseDict(_ids_to_base64(data, depth), message, ignore_unknown_fields=True)
    except JsonPayloadError:
        raise
    except (json_format.ParseError, binascii.Error, RecursionError, TypeError, ValueError) as exc:
        raise JsonPayloadError(f"body is not valid OTLP JSON: {str(exc)[:300]}") from None
    return message


def _decodes(record: Any, leaves: Leaves, refused: list[tuple[int, str]]) -> bool:
    item = record if isinstance(record, dict) else {}
    try:
        if not isinstance(record, dict):
            raise JsonPayloadError(f"body is not valid OTLP JSON: {str(record)[:40]!r} is not an object")
        _fill(record, leaves.record_class(), RECORD_DEPTH)
    except JsonPayloadError as exc:
        refused.append((max(1, leaves.count(item)), f"{leaves.label(item)}: {exc}"))
        return False
    return True


def keep_records(data: dict[str, Any], top_key: str, scope_key: str, record_key: str,
                 keep: Callable[[Any], bool]) -> None:
    """Leave in each scope of ``data`` (``top_key[].scope_key[].record_key[]``) the records ``keep`` accepts (it
    notes why it refuses one): how one record of an OTLP JSON request is refused alone."""
    for resource in _dicts(data.get(top_key)):
        for scope in _dicts(resource.get(scope_key)):
            records = scope.get(record_key)
            if isinstance(records, list):
                scope[record_key] = [r for r in records if keep(r)]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
