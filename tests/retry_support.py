"""Helpers for the retry tests: executions written straight into the store, signed requests."""

from __future__ import annotations

import json
import uuid

from execlog_otel import semconv as sc
from execlog_otel.retry import signing
from execlog_otel.store.rows import SpanColumns

SECRET = "test-retry-secret"


def add_attempt(store, *, name: str, status: str, start_ns: int, execution_id: str | None = None, attempt: int = 1,
                execution_start_ns: int | None = None, payload: dict | None = None, fingerprint: str = "fp1",
                retry_url: str = "", response_step: bool = False, extra: dict | None = None,
                max_attempts: int | None = None) -> tuple[str, str]:
    """Write one attempt (root span + one step) as a runner would; returns (execution id, root span id)."""
    trace_id = execution_id if attempt == 1 and execution_id else uuid.uuid4().hex
    root_id = uuid.uuid4().hex[:16]
    attrs = {sc.KIND: "automation", sc.EXECUTION_NAME: name, sc.STATUS: status,
             sc.TRIGGER_PAYLOAD: json.dumps(payload if payload is not None else {}),
             sc.TRIGGER_FINGERPRINT: fingerprint, **(extra or {})}
    if max_attempts:
        attrs[sc.MAX_ATTEMPTS] = str(max_attempts)
    if attempt > 1:
        attrs.update({sc.RETRY_OF: execution_id, sc.ATTEMPT: str(attempt),
                      sc.EXECUTION_START: str(execution_start_ns)})
    resource = {"service.name": "runner"}
    if retry_url:
        resource[sc.RESOURCE_RETRY_URL] = retry_url
    common = dict(trace_state="", kind="Internal", service_name="runner", resource=resource, scope_name="t",
                  scope_version="", status_message="boom" if status == "Failed" else "")
    cols = SpanColumns()
    cols.add(start_ns=start_ns, end_ns=start_ns + 10**7, trace_id=trace_id, span_id=root_id, parent_span_id="",
             name=name, status_code="Error" if status == "Failed" else "Unset", attributes=attrs, **common)
    step_attrs = {sc.STEP_KIND: sc.StepKind.RESPONSE.value if response_step else sc.StepKind.ACTION.value,
                  sc.STEP_STATUS: "Success"}
    cols.add(start_ns=start_ns + 1000, end_ns=start_ns + 2000, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
             parent_span_id=root_id, name="respond" if response_step else "act", status_code="Unset",
             attributes=step_attrs, **common)
    store.insert_span_columns(cols.columns)
    return (execution_id or trace_id), root_id


def signed(body: dict | bytes, secret: str = SECRET, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", **signing.sign(secret, raw, now=now)}
