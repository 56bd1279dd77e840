"""What a retry needs to know about executions, read with bound parameters only.

Three named statements (``sql/read/retry_*.sql``): one reads the executions' rows (latest attempt's
status, fingerprint); one reads the root spans of all their attempts (first attempt's trigger payload,
span id and listener URL, attempt numbers, recorded limits and not-retryable marks); one looks for
Response connector steps. All bounded in time by the oldest execution's start, so they stay cheap in
large stores.

Span data is untrusted: with a retry secret, a root counts as an attempt of X only with a valid
``execlog.retry.proof`` (``retry.proof``), the first attempt included. The URL and payload of a retry
come only from proven attempts (the payload from the first, the URL from the latest), never from a
trace that merely claims to be one; an execution without any proven attempt is not retried.
"""

from __future__ import annotations

import json
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.retry.policy import RetryCandidate
from execlog_otel.retry.proof import is_proven
from execlog_otel.store.filters import check_execution_id
from execlog_otel.store.sqlfiles import statement
from execlog_otel.store.store import Store

MAX_IDS = 200


def retry_candidates(store: Store, execution_ids: list[str], timeout_s: float,
                     secret: str = "") -> dict[str, RetryCandidate]:
    """The retry facts of each execution found, by execution id (missing ids are absent).

    Each query is bounded by ClickHouse at ``timeout_s`` (``EXECLOG_QUERY_TIMEOUT_S``). With ``secret``
    (the viewer's retry secret) only proven attempts count; without one no retry can be sent, and claims
    are taken as they are."""
    settings = {"max_execution_time": timeout_s}
    ids = list(dict.fromkeys(check_execution_id(i) for i in execution_ids))
    if not ids:
        return {}
    if len(ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} executions at a time")

    def query(name: str, params: dict[str, Any]) -> Any:
        return store.pool.query(statement(f"read/{name}", database=store.database), parameters=params,
                                settings=settings)

    newest: dict[str, dict[str, Any]] = {}
    for r in query("retry_executions", {"ids": ids}).named_results():
        if r["ExecutionId"] not in newest or r["Version"] > newest[r["ExecutionId"]]["Version"]:
            newest[r["ExecutionId"]] = r
    if not newest:
        return {}
    lo = min(r["StartNs"] for r in newest.values())
    roots: dict[str, list[dict[str, Any]]] = {}
    params = {"ids": list(newest), "lo": lo, "k_payload_truncated": sc.TRIGGER_PAYLOAD + sc.TRUNCATED_SUFFIX}
    for r in query("retry_attempt_roots", params).named_results():
        if not secret or is_proven(secret, r["Proof"], r["ExecutionId"], r["Attempt"], r["TraceId"], r["SpanId"],
                                   r["RetryUrl"], r["Payload"]):
            roots.setdefault(r["ExecutionId"], []).append(r)
    trace_ids = [r["TraceId"] for rs in roots.values() for r in rs] or [r["TraceId"] for r in newest.values()]
    with_response = {r[0] for r in query("retry_response_traces", {
        "trace_ids": trace_ids, "lo": lo, "response": sc.StepKind.RESPONSE.value}).result_rows}
    return {eid: _candidate(eid, row, roots.get(eid, []), with_response, secret) for eid, row in newest.items()}


def _candidate(eid: str, row: dict[str, Any], attempts: list[dict[str, Any]], with_response: set[str],
               secret: str) -> RetryCandidate:
    """One execution's retry facts from its row and its (proven) attempt roots."""
    first = next((a for a in attempts if a["TraceId"] == eid), None)
    head = first or (attempts[0] if attempts else None)
    latest = attempts[-1] if attempts else None
    # The row is the newest observation under this id; a forged claim may have written it (a Collector in
    # front of the store does not check proofs), so it speaks for the execution only when its trace is a
    # proven attempt.
    row_trusted = not secret or any(a["TraceId"] == row["TraceId"] for a in attempts) or (
        latest is None and row["Status"] in sc.LIVE_STATUSES)  # e.g. a Celery task still Pending
    own = row if row_trusted or latest is None else latest
    payload: Any = None
    if head is not None and head["Payload"]:
        try:
            payload = json.loads(head["Payload"])
        except ValueError:
            payload = head["Payload"]
    not_retryable = [a for a in attempts if a["NotRetryable"]]
    return RetryCandidate(
        execution_id=eid,
        name=own["Name"],
        proven=bool(attempts),
        kind=row["Kind"],
        status=own["Status"],
        service=row["ServiceName"],
        attempts_used=max([int(row["Attempt"]) if row_trusted else 1] + [int(a["Attempt"]) for a in attempts]),
        recorded_max_attempts=next((int(a["MaxAttempts"]) for a in reversed(attempts) if a["MaxAttempts"]), None),
        retryable=(bool(row["Retryable"]) or not row_trusted) and not not_retryable,
        not_retryable_reason=(row["NotRetryableReason"] if row_trusted else "")
        or (not_retryable[0]["Reason"] if not_retryable else ""),
        has_response_step=any(a["TraceId"] in with_response for a in attempts) or (
            row_trusted and row["TraceId"] in with_response),
        retry_url=next((a["RetryUrl"] for a in reversed(attempts) if a["RetryUrl"]), "")
        or (row["RetryUrl"] if not secret else ""),
        trigger_payload=payload,
        trigger_payload_truncated=bool(head and head["PayloadTruncated"]),
        trigger_fingerprint=(head or {}).get("Fingerprint") or (row["TriggerFingerprint"] if row_trusted else ""),
        execution_start_ns=int(row["StartNs"]),
        first_root_span_id=first["SpanId"] if first else "",
        attempt_statuses=[{"attempt": int(a["Attempt"]), "trace_id": a["TraceId"], "status": a["Status"]}
                          for a in attempts],
    )
