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
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class JsonPayloadError(ValueError):
    pass


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


def parse(body: bytes, message: Message, top_key: str) -> Message:
    """Fill ``message`` from an OTLP JSON body whose top level holds ``top_key`` (e.g. resourceLogs)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise JsonPayloadError("body is not valid OTLP JSON: it is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonPayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise JsonPayloadError(f"body must be a JSON object with a {top_key} list")
    try:
        json_format.ParseDict(_ids_to_base64(data), message, ignore_unknown_fields=True)
    except (json_format.ParseError, binascii.Error, RecursionError, TypeError, ValueError) as exc:
        raise JsonPayloadError(f"body is not valid OTLP JSON: {str(exc)[:300]}") from None
    return message
