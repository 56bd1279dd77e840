"""Who may be retried, and if not, why: the reference document's rules as one pure function.

- only a Failed or Rejected execution is retried (not one that succeeded or is still running);
- at most ``max_attempts`` attempts in all (default 3: the first run and 2 retries); at the limit the
  Retry affordance disappears and a retry is refused;
- an execution whose automation answered its caller synchronously (a Response connector step) or that
  was marked not retryable is never retried, and says why;
- the runner that ran it must announce a retry listener (``execlog.retry.url``) and prove its attempts
  (``retry.proof``: an HMAC made with the retry secret), so span data alone cannot name a target.
The trigger-configuration check needs the runner's current configuration: the listener answers it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from execlog_otel import semconv as sc

# Refusal codes, shared by the API, the UI and the tests. Each has its own message.
OK = "ok"
NOT_FOUND = "not_found"
IN_PROGRESS = "in_progress"
NOT_FAILED = "not_failed"
NOT_RETRYABLE = "not_retryable"
LIMIT_REACHED = "limit_reached"
NO_LISTENER = "no_listener"
PAYLOAD_TRUNCATED = "payload_truncated"
PAYLOAD_REDACTED = "payload_redacted"
ALREADY_STARTED = "already_started"
NOT_NEXT_ATTEMPT = "not_next_attempt"
# Answered by the runner (or the way to it)
TRIGGER_CHANGED = "trigger_changed"
UNKNOWN_AUTOMATION = "unknown_automation"
BAD_PAYLOAD = "bad_payload"
BAD_SIGNATURE = "bad_signature"
RUNNER_UNREACHABLE = "runner_unreachable"
RUNNER_ERROR = "runner_error"
RUNNER_BUSY = "runner_busy"  # every outbound slot is waiting for a runner (503)
URL_NOT_ALLOWED = "url_not_allowed"
NOT_CONFIGURED = "retry_not_configured"
UNPROVEN = "unproven"  # no attempt carries a valid proof (retry.proof): its URL and payload are not trusted

MASK = "***"  # what the SDK records instead of a secret (sdk.payloads.MASK)

RESPONSE_CONNECTOR_REASON = ("its automation answered the caller synchronously through a Response connector "
                             "step, and running it again cannot answer that caller again")


@dataclass
class RetryCandidate:
    """What the policy and the dispatcher need to know about one execution (see store/retry_queries.py)."""

    execution_id: str
    name: str = ""
    kind: str = ""
    status: str = ""
    service: str = ""
    attempts_used: int = 1  # latest attempt number seen in the store
    recorded_max_attempts: int | None = None  # execlog.max_attempts recorded by the runner
    retryable: bool = True
    not_retryable_reason: str = ""
    has_response_step: bool = False
    retry_url: str = ""
    trigger_payload: Any = None  # parsed JSON (a dict param → value), None when not recorded
    trigger_payload_truncated: bool = False
    trigger_fingerprint: str = ""
    execution_start_ns: int = 0
    first_root_span_id: str = ""
    attempt_statuses: list[dict[str, Any]] = field(default_factory=list)
    proven: bool = True  # some attempt carries a valid proof of the runner (retry.proof)


@dataclass
class Decision:
    execution_id: str
    retryable: bool
    code: str
    reason: str
    name: str = ""
    status: str = ""
    attempt: int = 1  # attempts used so far
    max_attempts: int = 3
    attempts_left: int = 0  # retries still possible
    next_attempt: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def max_attempts_for(candidate: RetryCandidate, default_max_attempts: int) -> int:
    """The runner's recorded limit for this automation when it recorded one, else the configured default."""
    recorded = candidate.recorded_max_attempts
    return recorded if recorded and recorded > 0 else max(1, default_max_attempts)


def decide(candidate: RetryCandidate | None, default_max_attempts: int, *, execution_id: str = "",
           pending_attempt: int = 0) -> Decision:
    """Whether ``candidate`` may be retried now. ``pending_attempt``: an attempt the runner accepted that
    the store does not show yet (it is about to start)."""
    if candidate is None:
        return Decision(execution_id, False, NOT_FOUND,
                        f"No execution {execution_id} in this store (it may be older than the retention period).")
    limit = max_attempts_for(candidate, default_max_attempts)
    used = max(candidate.attempts_used, 1)
    base = {"execution_id": candidate.execution_id, "name": candidate.name, "status": candidate.status,
            "attempt": used, "max_attempts": limit, "attempts_left": max(limit - used, 0)}
    refusal = _state_refusal(candidate, used, limit, pending_attempt) or _payload_refusal(candidate)
    if refusal is not None:
        return Decision(retryable=False, code=refusal[0], reason=refusal[1], **base)
    return Decision(retryable=True, code=OK, next_attempt=used + 1,
                    reason=f"Retry as attempt {used + 1} of {limit}.", **base)


def _state_refusal(candidate: RetryCandidate, used: int, limit: int, pending_attempt: int) -> tuple[str, str] | None:
    """Why the execution's state forbids a retry (started, running, not failed, not retryable, limit)."""
    if pending_attempt > used:
        return ALREADY_STARTED, (f"Attempt {pending_attempt} of {limit} was already started by the runner; "
                                 "it shows here in a moment.")
    if candidate.status in sc.LIVE_STATUSES:
        return IN_PROGRESS, (f"Attempt {used} is still {candidate.status}; a retry is possible once it has "
                             "ended Failed.")
    if candidate.status not in sc.FAILED_STATUSES:
        return NOT_FAILED, (f"Only Failed or Rejected executions can be retried; this one is "
                            f"{candidate.status or 'of unknown status'}.")
    if candidate.has_response_step:
        return NOT_RETRYABLE, f"This execution cannot be retried: {RESPONSE_CONNECTOR_REASON}."
    if not candidate.retryable:
        reason = candidate.not_retryable_reason.strip() or "the automation marked it not retryable"
        return NOT_RETRYABLE, f"This execution cannot be retried: {reason}"
    if used >= limit:
        return LIMIT_REACHED, (f"Retry limit reached: all {limit} attempts were used (the first run and "
                               f"{limit - 1} retries). Start a new execution.")
    return None


def _payload_refusal(candidate: RetryCandidate) -> tuple[str, str] | None:
    """Why where or with what to retry cannot be trusted or used (no proof, no listener, payload cut or masked)."""
    if not candidate.proven:
        return UNPROVEN, ("No attempt of this execution carries the proof of a runner holding the retry "
                          "secret, so where and with what to retry it cannot be trusted. Give the runner "
                          "the viewer's EXECLOG_RETRY_SECRET (its next executions can be retried).")
    if not candidate.retry_url:
        service = f" ({candidate.service})" if candidate.service else ""
        return NO_LISTENER, (f"The runner that ran this execution{service} announced no retry listener; "
                             "start it with the retry listener enabled (EXECLOG_RETRY_LISTEN or "
                             "start_retry_listener()) to retry from the viewer.")
    if candidate.trigger_payload_truncated:
        return PAYLOAD_TRUNCATED, ("The trigger payload was truncated when it was recorded (larger than "
                                   "EXECLOG_PAYLOAD_CAP), so the execution cannot be re-run with it; start "
                                   "a new execution.")
    masked = masked_keys(candidate.trigger_payload)
    if masked:
        return PAYLOAD_REDACTED, (f"The recorded trigger payload has masked secret values "
                                  f"({', '.join(masked[:5])}), so a retry would run with '***' instead of "
                                  "them; start a new execution.")
    return None


def masked_keys(payload: Any, prefix: str = "") -> list[str]:
    """Paths of values the SDK masked (redacted secrets) in a recorded payload."""
    found: list[str] = []
    if isinstance(payload, dict):
        for k, v in payload.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            found += [path] if v == MASK else masked_keys(v, path)
    elif isinstance(payload, list):
        for i, v in enumerate(payload):
            found += [f"{prefix}[{i}]"] if v == MASK else masked_keys(v, f"{prefix}[{i}]")
    return found
