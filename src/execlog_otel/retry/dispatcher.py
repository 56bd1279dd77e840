"""The viewer side of a retry: decide, then ask the runner's listener to start attempt N — once.

Requests for one execution are serialized (a lock per execution id), and an attempt the runner
accepted is remembered until the store shows it, so a double click or ten concurrent requests
start one attempt; the idempotency key ``<execution id>:<attempt>`` makes the runner drop any
duplicate that still reaches it (another viewer process, a network retry). An attempt counts
only once the runner answered 202: every other outcome leaves the execution as it was.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import urllib3

from execlog_otel.config import Settings
from execlog_otel.retry import policy, signing, targets
from execlog_otel.retry.listener import AttemptRequest
from execlog_otel.retry.policy import Decision, RetryCandidate
from execlog_otel.store import retry_queries
from execlog_otel.store.store import Store

PENDING_TTL_S = 600  # an accepted attempt that never shows up in the store stops blocking after this
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
TOTAL_TIMEOUT_S = 8.0  # the longest one call to a runner may take, answer included
MAX_ANSWER_BYTES = 64 * 1024  # a listener's answer is a few hundred bytes
OUTBOUND_SLOTS = 2  # calls to runners at a time: web threads a dead runner can occupy (serve runs 8)
MAX_MESSAGE_CHARS = 300  # of a runner's own message, shown to people
BATCH_DEADLINE_S = 20.0  # a bulk retry or preview stops calling runners after this long


@dataclass
class Outcome:
    """The answer to one retry request: HTTP status for the API, a code and a message for people."""

    execution_id: str
    http_status: int
    code: str
    message: str
    attempt: int | None = None
    decision: dict[str, Any] | None = None

    @property
    def accepted(self) -> bool:
        return self.code in ("accepted", policy.ALREADY_STARTED)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.execution_id, "code": self.code, "accepted": self.accepted,
                               "attempt": self.attempt, "decision": self.decision}
        out["message" if self.accepted else "error"] = self.message
        return out


class RunnerBusy(Exception):
    """Every outbound slot is taken by calls waiting for runners; the request is refused at once."""


class RunnerClient:
    """Signed POSTs to a runner's retry listener, confined so that runners cannot hold the viewer.

    Short connect and read timeouts and an overall deadline; no redirects; answers larger than
    ``max_answer_bytes`` are cut off and refused; at most ``slots`` calls at a time (the rest are refused
    with RunnerBusy instead of waiting), so dead or slow runners occupy at most ``slots`` of the web
    server's threads. One re-signed retry when the answer to a sent request is lost."""

    def __init__(self, secret: str, timeout_s: float = TOTAL_TIMEOUT_S, *, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 read_timeout_s: float = READ_TIMEOUT_S, max_answer_bytes: int = MAX_ANSWER_BYTES,
                 slots: int = OUTBOUND_SLOTS) -> None:
        self.secret = secret
        self.total_timeout_s = timeout_s
        self.timeout = urllib3.Timeout(connect=min(connect_timeout_s, timeout_s), read=min(read_timeout_s, timeout_s))
        self.max_answer_bytes = max_answer_bytes
        self.slots = slots
        self._slots = threading.BoundedSemaphore(slots)
        self.http = urllib3.PoolManager(retries=False, maxsize=slots, block=False)

    def post(self, url: str, payload: dict[str, Any], idempotency_key: str = "") -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer). Raises ConnectionError with a readable reason when unreachable,
        RunnerBusy when all slots are taken."""
        if not self._slots.acquire(blocking=False):
            raise RunnerBusy()
        try:
            return self._post(url, payload, idempotency_key)
        finally:
            self._slots.release()

    def _post(self, url: str, payload: dict[str, Any], idempotency_key: str) -> tuple[int, dict[str, Any]]:
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        deadline = time.monotonic() + self.total_timeout_s
        last: Exception | None = None
        for _ in range(2):
            left = deadline - time.monotonic()
            if left <= 0.1:
                break
            headers = {"Content-Type": "application/json", **signing.sign(self.secret, body)}
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            timeout = urllib3.Timeout(connect=min(self.timeout.connect_timeout, left),
                                      read=min(self.timeout.read_timeout, left))
            try:
                resp = self.http.request("POST", url, body=body, headers=headers, redirect=False,
                                         preload_content=False, timeout=timeout)
            except urllib3.exceptions.NewConnectionError as exc:
                raise ConnectionError(_reason(exc)) from None  # nothing was sent: no point retrying
            except urllib3.exceptions.HTTPError as exc:
                last = exc  # sent, answer lost: re-sign and send again; the idempotency key dedupes
                continue
            try:
                data = self._read_capped(resp, deadline)
            except urllib3.exceptions.HTTPError as exc:
                raise ConnectionError(_reason(exc)) from None
            finally:
                resp.release_conn()
            if data is None:
                return resp.status, {"code": policy.RUNNER_ERROR,
                                     "error": f"answer larger than {self.max_answer_bytes} bytes, not read"}
            try:
                answer = json.loads(data or b"{}")
            except (ValueError, RecursionError):
                answer = {}
            if not isinstance(answer, dict):
                answer = {}
            return resp.status, answer
        raise ConnectionError(_reason(last) if last else "timed out")

    def _read_capped(self, resp: Any, deadline: float) -> bytes | None:
        """The answer's body, or None when it is larger than the cap; the deadline bounds a trickling runner."""
        declared = resp.headers.get("Content-Length") or "0"
        if not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_answer_bytes:
            resp.close()  # not read: the connection is dropped rather than drained
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                resp.close()
                raise ConnectionError("timed out")
            chunk = resp.read1(16 * 1024)  # returns what has arrived: the deadline is checked between reads
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_answer_bytes:
                resp.close()
                return None
            chunks.append(chunk)


def _reason(exc: Exception | None) -> str:
    text = str(getattr(exc, "reason", None) or exc or "no answer")
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.split(": ", 1)[-1][:200]


def _text(message: str, limit: int) -> str:
    """A runner's message as one line of plain text of at most ``limit`` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in message).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass
class RetryDispatcher:
    store: Store
    settings: Settings
    client: RunnerClient | None = None
    _locks: weakref.WeakValueDictionary[str, threading.Lock] = field(default_factory=weakref.WeakValueDictionary)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)
    _pending: dict[str, tuple[int, float]] = field(default_factory=dict)

    _allowed: tuple[targets.Target, ...] = ()
    _on_loopback: bool = True

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = RunnerClient(self.settings.retry_secret)
        self._allowed = targets.parse_allowlist(self.settings.retry_allowed_urls)
        self._on_loopback = targets.is_loopback_host(self.settings.host)

    def _target(self, url: str) -> str:
        """The URL to call for ``url``; TargetRefused (a ValueError) with a message when it may not be called."""
        return targets.check(url, self._allowed, self._on_loopback).url

    def _candidates(self, execution_ids: list[str]) -> dict[str, RetryCandidate]:
        return retry_queries.retry_candidates(self.store, execution_ids, self.settings.query_timeout_s,
                                              secret=self.settings.retry_secret)

    # --- deciding ----------------------------------------------------------------------------
    def _pending_attempt(self, execution_id: str, candidate: RetryCandidate | None) -> int:
        now = time.monotonic()
        for eid, (_, at) in list(self._pending.items()):  # forget attempts that never showed up
            if now - at > PENDING_TTL_S:
                self._pending.pop(eid, None)
        entry = self._pending.get(execution_id)
        if entry is None:
            return 0
        attempt, _ = entry
        if candidate and candidate.attempts_used >= attempt:
            self._pending.pop(execution_id, None)  # the store caught up
            return 0
        return attempt

    def decisions(self, execution_ids: list[str], ask_runner: bool = True) -> list[Decision]:
        """The decision for each id, in order; with ``ask_runner`` the runners confirm that they know the
        automation and that its trigger configuration is unchanged (one signed check per runner)."""
        candidates = self._candidates(execution_ids)
        out = []
        for eid in execution_ids:
            eid = eid.strip().lower()
            c = candidates.get(eid)
            out.append(policy.decide(c, self.settings.max_attempts, execution_id=eid,
                                     pending_attempt=self._pending_attempt(eid, c)))
        if ask_runner:
            self._ask_runners([d for d in out if d.retryable], candidates)
        return out

    def _ask_runners(self, decisions: list[Decision], candidates: dict[str, RetryCandidate]) -> None:
        by_url: dict[str, list[Decision]] = {}
        for d in decisions:
            by_url.setdefault(candidates[d.execution_id].retry_url, []).append(d)
        deadline = time.monotonic() + BATCH_DEADLINE_S
        for url, group in by_url.items():
            refusal = self._ask_runner(url, group, candidates, deadline)
            if refusal is not None:
                for d in group:
                    _refuse(d, *refusal)

    def _ask_runner(self, url: str, group: list[Decision], candidates: dict[str, RetryCandidate],
                    deadline: float) -> tuple[str, str] | None:
        """Ask one runner whether it can retry ``group`` (refusing single items in place); returns the
        (code, reason) refusing the whole group when the runner cannot be asked or did not answer."""
        if not self.settings.retry_secret:
            return policy.NOT_CONFIGURED, _not_configured()
        if time.monotonic() > deadline:  # earlier runners were slow: do not hold this thread for the rest
            return policy.RUNNER_BUSY, _not_asked()
        items = [{"name": candidates[d.execution_id].name,
                  "trigger_fingerprint": candidates[d.execution_id].trigger_fingerprint} for d in group]
        try:
            check = self._target(url).rstrip("/") + "/check"
        except ValueError as exc:
            return policy.URL_NOT_ALLOWED, _sentence(exc)
        try:
            status, answer = self.client.post(check, {"items": items})
        except RunnerBusy:
            return policy.RUNNER_BUSY, _busy()
        except ConnectionError as exc:
            return policy.RUNNER_UNREACHABLE, _unreachable(url, str(exc))
        verdicts = answer.get("items") if status == 200 else None
        if not isinstance(verdicts, list) or len(verdicts) != len(group):
            return _runner_refusal(url, status, answer)
        for d, v in zip(group, verdicts, strict=True):
            if isinstance(v, dict) and not v.get("ok"):
                _refuse(d, _text(str(v.get("code") or policy.RUNNER_ERROR), 40),
                        _text(str(v.get("error") or "refused"), MAX_MESSAGE_CHARS))
        return None

    # --- retrying ----------------------------------------------------------------------------
    def _lock_for(self, execution_id: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(execution_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[execution_id] = lock
            return lock

    def retry(self, execution_id: str, attempt: int | None = None, *,
              unreachable: set[str] | None = None) -> Outcome:
        """Start the next attempt of one execution, or say exactly why not.

        ``attempt`` is the attempt the caller means to start (what its Retry button showed): requests
        sent at the same moment for the same attempt start it once, even when it ends before the last
        of them is handled. Without it, the attempt meant is the next one as of the request's arrival
        (read before waiting for the execution's lock), so a burst of requests still starts one."""
        eid = execution_id.strip().lower()
        if attempt is None:
            arrived = self._candidates([eid]).get(eid)
            if arrived is not None:
                attempt = max(arrived.attempts_used, self._pending_attempt(eid, arrived)) + 1
        lock = self._lock_for(eid)  # held in a local: the weak dictionary keeps it while we wait
        with lock:
            c = self._candidates([eid]).get(eid)
            pending = self._pending_attempt(eid, c)
            d = policy.decide(c, self.settings.max_attempts, execution_id=eid, pending_attempt=pending)
            refused = self._refusal(eid, c, d, attempt, pending)
            if refused is not None:
                return refused
            assert c is not None and d.next_attempt is not None
            req = AttemptRequest(eid, d.next_attempt, c.name, c.trigger_payload or {}, c.trigger_fingerprint,
                                 c.execution_start_ns, c.first_root_span_id)
            return self._start(req, c, d, unreachable)

    def _refusal(self, eid: str, c: RetryCandidate | None, d: Decision, attempt: int | None,
                 pending: int) -> Outcome | None:
        """Why the attempt meant cannot be started (already started, not the next one, not retryable, no
        secret, no JSON parameters), or None when it can."""
        if d.code == policy.ALREADY_STARTED:
            return Outcome(eid, 202, d.code, d.reason, pending, d.to_json())
        if attempt is not None and c is not None:
            started = max(c.attempts_used, pending)
            if attempt <= started:
                return Outcome(eid, 202, policy.ALREADY_STARTED, f"Attempt {attempt} of {d.max_attempts} "
                               "was already started.", attempt, d.to_json())
            if d.retryable and attempt != d.next_attempt:
                return Outcome(eid, 409, policy.NOT_NEXT_ATTEMPT, f"Attempt {attempt} cannot be started: the "
                               f"next attempt of this execution is {d.next_attempt}.", None, d.to_json())
        if not d.retryable or c is None:
            return Outcome(eid, 404 if d.code == policy.NOT_FOUND else 409, d.code, d.reason, None, d.to_json())
        if not self.settings.retry_secret:
            return Outcome(eid, 503, policy.NOT_CONFIGURED, _not_configured(), None, d.to_json())
        if not isinstance(c.trigger_payload, dict) and c.trigger_payload is not None:
            return Outcome(eid, 409, policy.BAD_PAYLOAD, "The recorded trigger payload is not a JSON object "
                           "of parameters, so the automation cannot be called with it again; start a new "
                           "execution.", None, d.to_json())
        return None

    def _start(self, req: AttemptRequest, c: RetryCandidate, d: Decision, unreachable: set[str] | None) -> Outcome:
        """Send the signed attempt request to the execution's runner and say what it answered."""
        eid = req.execution_id
        try:
            url = self._target(c.retry_url)
        except ValueError as exc:
            return Outcome(eid, 409, policy.URL_NOT_ALLOWED, _sentence(exc), None, d.to_json())
        if unreachable is not None and url in unreachable:
            return Outcome(eid, 502, policy.RUNNER_UNREACHABLE, _unreachable(c.retry_url, "it did not answer "
                           "an earlier request of this bulk retry"), None, d.to_json())
        try:
            status, answer = self.client.post(url, req.to_json(), req.idempotency_key)
        except RunnerBusy:
            return Outcome(eid, 503, policy.RUNNER_BUSY, _busy(), None, d.to_json())
        except ConnectionError as exc:
            if unreachable is not None:
                unreachable.add(url)
            return Outcome(eid, 502, policy.RUNNER_UNREACHABLE, _unreachable(c.retry_url, str(exc)), None,
                           d.to_json())
        if status in (200, 202) and answer.get("status") in ("accepted", "duplicate"):
            self._pending[eid] = (req.attempt, time.monotonic())
            d.attempt, d.attempts_left, d.next_attempt = req.attempt, max(d.max_attempts - req.attempt, 0), None
            if answer["status"] == "duplicate":
                return Outcome(eid, 202, policy.ALREADY_STARTED, f"Attempt {req.attempt} of {d.max_attempts} "
                               "was already started by the runner.", req.attempt, d.to_json())
            return Outcome(eid, 202, "accepted", f"Attempt {req.attempt} of {d.max_attempts} started.",
                           req.attempt, d.to_json())
        code, message = _runner_refusal(c.retry_url, status, answer)
        http = 502 if code in (policy.BAD_SIGNATURE, policy.RUNNER_ERROR) else 409
        return Outcome(eid, http, code, message, None, d.to_json())

    def bulk(self, execution_ids: list[str], attempts: dict[str, int] | None = None) -> list[Outcome]:
        """Retry each execution; a runner that did not answer is not called again in this bulk retry, and
        after ``BATCH_DEADLINE_S`` the rest is refused (503, try again) rather than holding the thread."""
        unreachable: set[str] = set()
        deadline = time.monotonic() + BATCH_DEADLINE_S
        out = []
        for eid in execution_ids:
            if time.monotonic() > deadline:
                out.append(Outcome(eid.strip().lower(), 503, policy.RUNNER_BUSY, _not_asked()))
                continue
            out.append(self.retry(eid, (attempts or {}).get(eid), unreachable=unreachable))
        return out


def _refuse(d: Decision, code: str, reason: str) -> None:
    d.retryable, d.code, d.reason, d.next_attempt = False, code, reason, None


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


def _busy() -> str:
    return ("Other retries are waiting for their runners to answer; nothing was retried. Try again in a few "
            "seconds.")


def _not_asked() -> str:
    return ("Not tried: other runners of this request were slow to answer, and a request waits for runners at "
            f"most {BATCH_DEADLINE_S:g} s. Nothing was retried for this one; try it again.")


def _not_configured() -> str:
    return ("Retry is not configured on this viewer: set EXECLOG_RETRY_SECRET to the secret the runner's retry "
            "listener uses.")


def _unreachable(url: str, reason: str) -> str:
    return (f"The runner's retry listener at {url} is unreachable ({reason}). Is the runner running? Nothing was "
            "retried; try again once it is up.")


def _runner_refusal(url: str, status: int, answer: dict[str, Any]) -> tuple[str, str]:
    code = _text(str(answer.get("code") or ""), 40)
    error = _text(str(answer.get("error") or ""), MAX_MESSAGE_CHARS)
    if code in ("bad_signature", "stale", "replayed"):
        return policy.BAD_SIGNATURE, (f"The runner at {url} rejected the signed request ({error}). Viewer and runner "
                                      "must share EXECLOG_RETRY_SECRET and have synchronised clocks.")
    if code in (policy.UNKNOWN_AUTOMATION, policy.TRIGGER_CHANGED, policy.BAD_PAYLOAD) and error:
        return code, error
    detail = f": {error}" if error else ""
    return policy.RUNNER_ERROR, f"The runner at {url} answered HTTP {status}{detail}; nothing was retried."
