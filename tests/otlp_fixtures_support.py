"""Recorded OTLP bodies of real third-party clients (tests/fixtures/otlp/<client>/, recorded by
scripts/record_otlp_fixtures.py), sent to a running server as if the client sent them now."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import requests
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "otlp"
_REQUESTS = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
             "metrics": ExportMetricsServiceRequest}


def bodies(client: str) -> list[tuple[str, bytes]]:
    """(signal, body) of every request ``client`` sent, in the order it sent them."""
    files = sorted((FIXTURES / client).glob("*.pb"))
    assert files, f"no recorded bodies in {FIXTURES / client}: run scripts/record_otlp_fixtures.py {client}"
    return [(f.stem.split("-", 1)[1], f.read_bytes()) for f in files]


def _times(message) -> list[tuple[object, str]]:
    """Every (message, field) holding a time in ns since the epoch, in a decoded request."""
    out = []
    for field, value in message.ListFields():
        if field.name.endswith("time_unix_nano") and value:
            out.append((message, field.name))
        elif field.type == field.TYPE_MESSAGE:
            for item in (value if getattr(field, "is_repeated", False) or isinstance(value, Sequence) else [value]):
                if hasattr(item, "ListFields"):
                    out.extend(_times(item))
    return out


def shifted(client: str) -> list[tuple[str, bytes]]:
    """The recorded bodies with every time moved so that the newest is now (the store keeps 30 days)."""
    decoded = [(signal, _REQUESTS[signal].FromString(body)) for signal, body in bodies(client)]
    newest = max((getattr(m, f) for _, req in decoded for m, f in _times(req)), default=0)
    delta = time.time_ns() - newest
    for _, req in decoded:
        for m, f in _times(req):
            setattr(m, f, getattr(m, f) + delta)
    return [(signal, req.SerializeToString()) for signal, req in decoded]


def send(url: str, client: str) -> None:
    """POST ``client``'s recorded requests to the server at ``url`` as protobuf."""
    for signal, body in shifted(client):
        r = requests.post(f"{url}/v1/{signal}", data=body, timeout=30,
                          headers={"Content-Type": "application/x-protobuf"})
        assert r.status_code == 200, (signal, r.status_code, r.text)
