"""The runner side of a retry: a signed HTTP endpoint that re-runs a known automation as attempt N.

A runner exposes it with ``configure(retry_listener="host:port")`` (or
``EXECLOG_RETRY_LISTEN``), or one of three ways by hand: mount
``RetryListener(...).blueprint()`` in its own Flask app, serve
``RetryListener(...).wsgi_app()`` with any WSGI server, or call
``start_retry_listener(host, port)`` (waitress in a background thread).
It announces the URL through the resource attribute ``execlog.retry.url``
(``configure`` does it; by hand: ``configure(resource_attributes=retry_resource_attributes(url))``),
which the store copies onto the execution row the viewer reads.

``POST <url>`` with a signed JSON body ``{execution_id, attempt, name,
trigger_payload, trigger_fingerprint, execution_start_ns, first_root_span_id,
idempotency_key}`` answers at once — 202 accepted (the attempt runs in a
background thread inside ``attempt_of(...)``), 200 duplicate (that idempotency
key was accepted before: nothing new runs), or a refusal whose ``code`` says
why: bad_signature, stale, replayed (401/409), unknown_automation (404),
trigger_changed (409), bad_payload (422), bad_request (400).
``POST <url>/check`` (signed, no side effect) tells which automations this
runner knows and whether their trigger configuration still matches.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, jsonify, request

from execlog_otel import semconv as sc
from execlog_otel.retry import signing
from execlog_otel.sdk import registry
from execlog_otel.sdk.attempts import attempt_of

log = logging.getLogger(__name__)

URL_PATH = "/execlog/retry"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_CHECK_ITEMS = 500
IDEMPOTENCY_TTL_S = 7 * 24 * 3600  # longer than any sensible gap between a click and a network retry
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


class RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def trigger_changed_message(name: str) -> str:
    """The reference document's message for a retry after the trigger was reconfigured."""
    return (f"The trigger of automation {name!r} was reconfigured after this execution: the execution still holds "
            "the payload of the previously configured trigger, so it cannot be retried. Start a new execution to "
            "validate the changes.")


def unknown_automation_message(name: str) -> str:
    return (f"automation {name!r} is unknown to this runner: only automations defined with @automation in "
            "this runner can be retried (was it renamed or removed?); start a new execution from a runner that "
            "defines it")


@dataclass(frozen=True)
class AttemptRequest:
    execution_id: str
    attempt: int
    name: str
    trigger_payload: dict[str, Any]
    trigger_fingerprint: str
    execution_start_ns: int
    first_root_span_id: str

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.execution_id, self.attempt)

    def to_json(self) -> dict[str, Any]:
        return {"execution_id": self.execution_id, "attempt": self.attempt, "name": self.name,
                "trigger_payload": self.trigger_payload, "trigger_fingerprint": self.trigger_fingerprint,
                "execution_start_ns": self.execution_start_ns, "first_root_span_id": self.first_root_span_id,
                "idempotency_key": self.idempotency_key}

    @classmethod
    def from_json(cls, data: Any) -> AttemptRequest:
        if not isinstance(data, dict):
            raise RefusedError(400, "bad_request", "the body must be a JSON object")

        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            value = data.get(key)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise RefusedError(400, "bad_request", f"{key}: missing or of the wrong type")
            return value

        execution_id, attempt, name = _identity(need)
        payload, fingerprint = _trigger(data)
        start_ns = need("execution_start_ns", int)
        if start_ns < 0:
            raise RefusedError(400, "bad_request", "execution_start_ns: expected nanoseconds since the epoch")
        first_span = data.get("first_root_span_id") or ""
        if not isinstance(first_span, str) or (first_span and not _HEX16.match(first_span)):
            raise RefusedError(400, "bad_request", "first_root_span_id: expected 16 hexadecimal characters")
        req = cls(execution_id, attempt, name, payload, fingerprint, start_ns, first_span)
        given_key = data.get("idempotency_key")
        if given_key is not None and given_key != req.idempotency_key:
            raise RefusedError(400, "bad_request",
                               f"idempotency_key: expected {req.idempotency_key!r} (execution id:attempt)")
        return req

def _identity(need: Any) -> tuple[str, int, str]:
    """The execution id, attempt and automation name of a retry request (``need`` reads a typed key)."""
    execution_id = need("execution_id", str)
    if not _HEX32.match(execution_id):
        raise RefusedError(400, "bad_request", "execution_id: expected 32 lowercase hexadecimal characters")
    attempt = need("attempt", int)
    if not 2 <= attempt <= 1000:
        raise RefusedError(400, "bad_request", "attempt: a retry is attempt 2 or later")
    name = need("name", str)
    if not name or len(name) > 1000:
        raise RefusedError(400, "bad_request", "name: expected the automation's name")
    return execution_id, attempt, name


def _trigger(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The trigger payload (parameters) and configuration fingerprint of a retry request."""
    payload = data.get("trigger_payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise RefusedError(422, "bad_payload", "trigger_payload: expected a JSON object (parameter → value)")
    fingerprint = data.get("trigger_fingerprint") or ""
    if not isinstance(fingerprint, str) or len(fingerprint) > 200:
        raise RefusedError(400, "bad_request", "trigger_fingerprint: expected a string")
    return payload, fingerprint



def idempotency_key(execution_id: str, attempt: int) -> str:
    return f"{execution_id}:{attempt}"


def retry_resource_attributes(url: str) -> dict[str, str]:
    """Resource attributes announcing the listener: pass to ``configure(resource_attributes=...)``."""
    return {sc.RESOURCE_RETRY_URL: url}


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


@dataclass
class RetryListener:
    """Verifies, deduplicates and starts retry attempts. One instance per runner process."""

    secret: str = ""
    lookup: Callable[[str], registry.Registered | None] = registry.get
    idempotency_ttl_s: float = IDEMPOTENCY_TTL_S
    max_body_bytes: int = MAX_BODY_BYTES
    _accepted: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _verifier: signing.Verifier | None = None

    def __post_init__(self) -> None:
        if not self.secret:
            from execlog_otel.config import Settings

            self.secret = Settings.from_env().retry_secret
        if not self.secret:
            raise ValueError("the retry listener needs a shared secret: set EXECLOG_RETRY_SECRET (the same value "
                             "for the viewer and the runner)")
        self._verifier = signing.Verifier(self.secret, signing.NonceCache())

    # --- HTTP --------------------------------------------------------------------------------
    def blueprint(self, url_prefix: str = URL_PATH, name: str = "execlog_retry_listener") -> Blueprint:
        bp = Blueprint(name, __name__, url_prefix=url_prefix)
        bp.add_url_rule("", "retry", self._retry_view, methods=["POST"])
        bp.add_url_rule("/check", "check", self._check_view, methods=["POST"])
        bp.add_url_rule("/health", "health", lambda: jsonify(status="ok"), methods=["GET"])
        return bp

    def wsgi_app(self, url_prefix: str = URL_PATH) -> Flask:
        app = Flask("execlog_retry_listener")
        app.register_blueprint(self.blueprint(url_prefix))

        @app.errorhandler(404)
        @app.errorhandler(405)
        def not_here(exc: Any):
            return jsonify(code="not_found", error=f"no such endpoint; the retry listener answers POST {url_prefix}"), \
                getattr(exc, "code", 404)

        return app

    def _signed_json(self) -> Any:
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise RefusedError(413, "too_large", f"request body larger than {self.max_body_bytes} bytes")
        body = request.stream.read(self.max_body_bytes + 1)  # bounded also without a Content-Length
        if len(body) > self.max_body_bytes:
            raise RefusedError(413, "too_large", f"request body larger than {self.max_body_bytes} bytes")
        assert self._verifier is not None
        try:
            self._verifier.verify(request.headers, body)
        except signing.SignatureError as exc:
            raise RefusedError(409 if exc.code == "replayed" else 401, exc.code, str(exc)) from None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RefusedError(400, "bad_request", "the body is not JSON") from None

    def _retry_view(self):
        try:
            req = AttemptRequest.from_json(self._signed_json())
            header_key = request.headers.get("Idempotency-Key")
            if header_key and header_key != req.idempotency_key:
                raise RefusedError(400, "bad_request", "the Idempotency-Key header does not match the body")
            status, answer = self.submit(req)
        except RefusedError as exc:
            return jsonify(code=exc.code, error=str(exc)), exc.status
        return jsonify(answer), status

    def _check_view(self):
        try:
            data = self._signed_json()
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list) or len(items) > MAX_CHECK_ITEMS:
                raise RefusedError(400, "bad_request", f"items: expected a list of at most {MAX_CHECK_ITEMS} "
                                                       "{name, trigger_fingerprint} objects")
            out = []
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    raise RefusedError(400, "bad_request", "items: each item needs a name")
                out.append(self.check(item["name"], str(item.get("trigger_fingerprint") or "")))
        except RefusedError as exc:
            return jsonify(code=exc.code, error=str(exc)), exc.status
        return jsonify(items=out)

    # --- logic ------------------------------------------------------------------------------
    def check(self, name: str, fingerprint: str) -> dict[str, Any]:
        """Would a retry of ``name`` recorded with ``fingerprint`` be accepted (apart from idempotency)?"""
        registered = self.lookup(name)
        if registered is None:
            return {"name": name, "ok": False, "code": "unknown_automation", "error": unknown_automation_message(name)}
        if (registered.trigger_fingerprint or "") != fingerprint:
            return {"name": name, "ok": False, "code": "trigger_changed", "error": trigger_changed_message(name)}
        return {"name": name, "ok": True, "code": "ok", "error": ""}

    def submit(self, req: AttemptRequest) -> tuple[int, dict[str, Any]]:
        """Start ``req`` once per idempotency key; (HTTP status, answer). Raises RefusedError when refused."""
        key = req.idempotency_key
        with self._lock:
            self._expire(time.time())
            earlier = self._accepted.get(key)
            if earlier is not None:
                return 200, {**earlier, "status": "duplicate",
                             "message": f"attempt {req.attempt} of this execution was already accepted; "
                                        "nothing new was started"}
            verdict = self.check(req.name, req.trigger_fingerprint)
            if not verdict["ok"]:
                raise RefusedError(404 if verdict["code"] == "unknown_automation" else 409, verdict["code"],
                                   verdict["error"])
            registered = self.lookup(req.name)
            assert registered is not None
            try:
                inspect.signature(registered.fn).bind(**req.trigger_payload)
            except TypeError as exc:
                raise RefusedError(422, "bad_payload", f"the recorded trigger payload does not fit automation "
                                                       f"{req.name!r}'s parameters: {exc}") from None
            except ValueError:
                pass  # no introspectable signature (a builtin): let the call decide
            answer = {"status": "accepted", "execution_id": req.execution_id, "attempt": req.attempt,
                      "idempotency_key": key, "accepted_at": time.time()}
            self._accepted[key] = answer
            thread = threading.Thread(target=self._run, args=(registered.fn, req), daemon=True,
                                      name=f"execlog-retry-{key}")
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return 202, dict(answer)

    def _expire(self, now: float) -> None:
        while self._accepted:
            oldest = next(iter(self._accepted.values()))
            if oldest["accepted_at"] >= now - self.idempotency_ttl_s:
                break
            self._accepted.popitem(last=False)

    def _run(self, fn: Callable[..., Any], req: AttemptRequest) -> None:
        with attempt_of(req.execution_id, req.attempt, req.execution_start_ns, req.first_root_span_id,
                        proof_secret=self.secret):
            try:
                _call(fn, req.trigger_payload)
            except Exception:  # noqa: BLE001 - the attempt's root span records the failure
                log.info("retry attempt %s of %s failed", req.attempt, req.execution_id, exc_info=True)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every started attempt has returned (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    @property
    def accepted_keys(self) -> list[str]:
        with self._lock:
            return list(self._accepted)


@dataclass
class RunningListener:
    """A listener served by waitress in a background thread."""

    url: str  # the full retry URL to announce (…/execlog/retry)
    listener: RetryListener
    _server: Any
    _thread: threading.Thread

    def close(self) -> None:
        """Stop serving: close the listening socket and every open connection (keep-alive ones too,
        which would otherwise keep waitress's loop running), then the worker threads."""
        from waitress import wasyncore

        try:
            wasyncore.close_all(self._server._map)
            self._server.task_dispatcher.shutdown(timeout=5)
        finally:
            self._thread.join(timeout=5)

    @property
    def resource_attributes(self) -> dict[str, str]:
        return retry_resource_attributes(self.url)


def start_retry_listener(host: str = "127.0.0.1", port: int = 0, secret: str = "", *,
                         advertise_host: str = "", listener: RetryListener | None = None) -> RunningListener:
    """Serve the retry listener on ``host:port`` (0: any free port) in a daemon thread.

    ``advertise_host`` is the address the viewer should use when ``host`` is a wildcard."""
    from waitress import create_server

    listener = listener or RetryListener(secret)
    try:
        server = create_server(listener.wsgi_app(), host=host, port=port, threads=4, ident="execlog-retry",
                               clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise OSError(f"cannot start the retry listener on {host}:{port}: {exc.strerror or exc}") from None
    shown = advertise_host or (host if host not in ("0.0.0.0", "::", "") else "127.0.0.1")
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    url = f"http://{shown}:{server.effective_port}{URL_PATH}"

    def run() -> None:
        try:
            server.run()
        except Exception:  # noqa: BLE001 - closed underneath us at shutdown
            pass

    thread = threading.Thread(target=run, name="execlog-retry-listener", daemon=True)
    thread.start()
    return RunningListener(url, listener, server, thread)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``EXECLOG_RETRY_LISTEN``) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"EXECLOG_RETRY_LISTEN={value!r}: expected host:port, e.g. 127.0.0.1:4319")
    return host.strip("[]") or "127.0.0.1", int(port)


_process_listener: RunningListener | None = None
_process_lock = threading.Lock()


def ensure_retry_listener(listen: str, secret: str = "") -> str:
    """Start this process's retry listener on ``listen`` (``host:port``) once; its URL to announce.

    ``configure()`` calls it when ``EXECLOG_RETRY_LISTEN`` (or ``retry_listener=``) is set."""
    global _process_listener
    with _process_lock:
        if _process_listener is None:
            host, port = parse_listen(listen)
            _process_listener = start_retry_listener(host, port, secret)
        return _process_listener.url


def process_listener() -> RunningListener | None:
    """The listener ``configure()`` started in this process, if any."""
    return _process_listener
