"""Proof that a trace really is attempt N of execution X, recorded by a runner: an HMAC made with the retry secret.

Anyone who can send spans could otherwise write a failed "execution" naming any retry URL and payload,
or claim ``execlog.retry_of=<X>`` and take over X (its status, its retry URL and payload). A runner
process that knows ``EXECLOG_RETRY_SECRET`` (its retry listener needs it anyway) records
``execlog.retry.proof`` on every execution root it ends:

    HMAC-SHA256(secret, "execlog-attempt-v1", X, N, trace id, root span id, retry URL, SHA-256(trigger payload))

so the proof holds only for that root, with that listener URL and that payload: copied onto another
trace, another root of the same trace, or a copy of the root with another URL or payload, it fails.
State markers (live Running/Queued/... spans) carry the same with their root's span id and no URL or
payload, since they supply neither. The viewer checks proofs when reading (``store.retry_queries``):
only proven attempts count, and a retry's URL and payload come only from them. ``execlog serve``
checks them when receiving (``unproven_claims``): a ``retry_of`` claim without a valid proof is
listed as an execution of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from execlog_otel import semconv as sc

VERSION = "v1"


def attempt_proof(secret: str, execution_id: str, attempt: int | str, trace_id: str, root_span_id: str,
                  retry_url: str = "", payload: str = "") -> str:
    """The proof of one attempt root (or, without URL and payload, of a state marker under it)."""
    fields = ["execlog-attempt-" + VERSION, execution_id.lower(), str(int(attempt)), trace_id.lower(),
              root_span_id.lower(), retry_url, hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()]
    digest = hmac.new(secret.encode(), "\n".join(fields).encode("utf-8", "surrogatepass"), hashlib.sha256)
    return f"{VERSION}:{digest.hexdigest()}"


def is_proven(secret: str, proof: str, execution_id: str, attempt: int | str, trace_id: str, root_span_id: str,
              retry_url: str = "", payload: str = "") -> bool:
    """True when ``proof`` was made with ``secret`` for exactly these values."""
    if not secret or not proof:
        return False
    try:
        expected = attempt_proof(secret, execution_id, int(str(attempt).strip() or "1"), trace_id, root_span_id,
                                 retry_url, payload)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected.encode(), proof.strip().encode("utf-8", "replace"))


def span_is_proven(secret: str, execution_id: str, trace_id: str, span_id: str, parent_span_id: str,
                   attributes: Mapping[str, str], resource: Mapping[str, str]) -> bool:
    """Whether a stored span (a root, or a state marker) proves it belongs to ``execution_id``."""
    attempt = attributes.get(sc.ATTEMPT) or "1"
    proof = attributes.get(sc.RETRY_PROOF, "")
    if attributes.get(sc.MARKER) == sc.MARKER_STATE:
        return is_proven(secret, proof, execution_id, attempt, trace_id, parent_span_id)
    return is_proven(secret, proof, execution_id, attempt, trace_id, span_id, resource.get(sc.RESOURCE_RETRY_URL, ""),
                     attributes.get(sc.TRIGGER_PAYLOAD, ""))


def unproven_claims(columns: list[list[Any]], secret: str) -> int:
    """Demote the ``execlog.retry_of`` claims of received spans that carry no valid proof; how many.

    ``columns`` are ``store.rows.SpanColumns.columns`` (trace, span and parent ids in columns 1-3,
    resource attributes in 8, span attributes in 11). A demoted claim is kept as
    ``execlog.retry_of.unproven``, so the trace is listed as an execution of its own and the sender can
    still see what it claimed. Without a secret nothing can be proven and nothing is changed (retries
    cannot be sent then either)."""
    if not secret:
        return 0
    demoted = 0
    for trace_id, span_id, parent, resource, attributes in zip(columns[1], columns[2], columns[3], columns[8],
                                                               columns[11], strict=True):
        claim = attributes.get(sc.RETRY_OF)
        if not claim or claim == trace_id:
            continue
        if span_is_proven(secret, claim, trace_id, span_id, parent, attributes, resource):
            continue
        del attributes[sc.RETRY_OF]
        attributes.pop(sc.RETRY_PROOF, None)
        attributes[sc.RETRY_OF_UNPROVEN] = claim
        demoted += 1
    return demoted


def record_root_proof(span: Any, execution_id: str, secret: str) -> None:
    """Record the proof on an execution root that is about to end (its URL and payload are final then).

    ``span`` is an OpenTelemetry SDK span; nothing is recorded without a secret or once it ended."""
    if not secret or not span.is_recording():
        return
    from execlog_otel.store.rows import value_text  # what the exporter stores is what is proven

    ctx = span.get_span_context()
    attributes = getattr(span, "attributes", None) or {}
    resource = getattr(getattr(span, "resource", None), "attributes", None) or {}
    payload = attributes.get(sc.TRIGGER_PAYLOAD)
    span.set_attribute(sc.RETRY_PROOF, attempt_proof(
        secret, execution_id, attributes.get(sc.ATTEMPT, 1), format(ctx.trace_id, "032x"),
        format(ctx.span_id, "016x"), value_text(resource.get(sc.RESOURCE_RETRY_URL, "")),
        value_text(payload) if payload is not None else ""))


def marker_proof(secret: str, execution_id: str, attempt: Any, root: Any) -> str:
    """The proof a state marker carries under the root span context ``root`` ("" without a secret)."""
    if not secret:
        return ""
    return attempt_proof(secret, execution_id, attempt, format(root.trace_id, "032x"), format(root.span_id, "016x"))
