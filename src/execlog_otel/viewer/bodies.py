"""Request bodies of the viewer's state-changing routes: bounded in size and nesting before any view reads them.

Every POST/PUT/PATCH/DELETE except the OTLP receiver (which has its own limits) is checked here once:
a body larger than ``MAX_BODY_BYTES`` answers 413, JSON that does not parse or is nested deeper than
``MAX_DEPTH`` answers 400, each with a message. The nesting is counted before parsing (Python's decoder
would raise RecursionError, a 500); a body that passes here parses in the view as it did here.
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from execlog_otel.ingest import RECEIVER_ENDPOINTS

MAX_BODY_BYTES = 1024 * 1024  # the largest legitimate body (a bulk retry of 100 ids) is a few kB
MAX_DEPTH = 32
CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_ENDPOINTS = RECEIVER_ENDPOINTS


def _refuse(status: int, message: str) -> Response:
    resp = jsonify(code="bad_request" if status == 400 else "too_large", error=message)
    resp.status_code = status
    return resp


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (brackets inside strings do not count)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def check_body() -> Response | None:
    """before_request: refuse oversized or over-nested bodies with a 4xx that says why."""
    if request.method not in CHECKED_METHODS or (request.endpoint or "") in EXEMPT_ENDPOINTS:
        return None
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        return _refuse(413, f"request body of {declared} bytes is larger than the limit of {MAX_BODY_BYTES} bytes")
    request.max_content_length = MAX_BODY_BYTES  # also bounds bodies sent without a Content-Length
    try:
        raw = request.get_data(cache=True, parse_form_data=True)  # forms stay readable by the views
    except RequestEntityTooLarge:
        return _refuse(413, f"request body larger than the limit of {MAX_BODY_BYTES} bytes")
    if not request.is_json or not raw.strip():
        return None
    if too_deep(raw):
        return _refuse(400, f"the JSON body is nested deeper than {MAX_DEPTH} levels")
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return _refuse(400, f"the body is not valid JSON: {str(exc)[:200]}")
    return None


def init_app(app: Flask) -> None:
    app.before_request(check_body)
