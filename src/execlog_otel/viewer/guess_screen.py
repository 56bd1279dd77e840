"""The guessing limits applied before the app: a guess from an address over its limit never reaches Flask.

``viewer.throttle`` counts failed sign-ins and wrong tokens; the app answers 429 once an address is over
its limit, but answering still took a worker thread and a full Flask request each, so a flood of
guesses (already refused) kept every worker busy and slowed everyone else (issue #13: other users'
median 0.8 ms -> 12 ms). ``GuessScreen`` is asked by the server's loop thread about each request it has
read (``connections.install``) and names the ones the app would refuse for the client's address: a
sign-in form post, a bearer token where the viewer checks one, an OTLP export where an ingest token is
checked. Those get the same 429 and ``Retry-After``, written by the loop after a hold, without a worker.

The per-user-name limit needs the form body and stays with the app (``viewer.auth.login``), as does
every decision about a request that is not refused here. The client address is found by the same rule
the app uses (``TrustedProxies.client_address``), so guesses through a declared proxy are screened by
the address the proxy names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Flask

from execlog_otel.connections import raw_response
from execlog_otel.ingest import RECEIVER_ENDPOINTS, otlp
from execlog_otel.viewer.security import TrustedProxies
from execlog_otel.viewer.throttle import TOO_MANY_CODE, GuessLimiter, Refusal

LOGIN_PATH = "/login"  # viewer.auth's sign-in route


class GuessScreen:
    """``connections.Screen`` for one app: the raw 429 for a request the app would refuse, else None."""

    def __init__(self, app: Flask) -> None:
        settings = app.config["EXECLOG_SETTINGS"]
        self._limiter: GuessLimiter = app.extensions["execlog_guesses"]
        self._proxies: TrustedProxies = app.extensions["execlog_proxies"]
        self._sign_in = settings.auth_enabled
        people = app.extensions["execlog_people"]  # EXECLOG_AUTH_TOKEN, _INGEST_TOKEN and EXECLOG_AUTH_FILE's
        self._viewer_token = bool(people.tokens)
        self._ingest_token = people.ingest_required
        self._receiver_paths = frozenset(rule.rule for rule in app.url_map.iter_rules()
                                         if rule.endpoint in RECEIVER_ENDPOINTS)

    def __call__(self, peer: str, method: str, path: str, headers: Mapping[str, str]) -> bytes | None:
        receiver = method == "POST" and path in self._receiver_paths
        if receiver:
            guarded = self._ingest_token  # the receiver checks its token on every request (ingest.receiver)
        else:
            guarded = ((self._viewer_token and headers.get("AUTHORIZATION", "").startswith("Bearer "))
                       or (self._sign_in and method == "POST" and path == LOGIN_PATH))
        if not guarded:
            return None
        refusal = self._limiter.check(self._proxies.client_address(peer, headers.get("X_FORWARDED_FOR")))
        if refusal is None:
            return None
        return _too_many(refusal, path, headers, receiver)


def _too_many(refusal: Refusal, path: str, headers: Mapping[str, str], receiver: bool) -> bytes:
    """The 429 the app would answer, in the shape of the route's other errors."""
    if receiver:
        body, content_type = otlp.error_body(headers.get("CONTENT_TYPE", ""), 429, refusal.message)
    elif path.startswith("/api/") or "application/json" in headers.get("ACCEPT", ""):
        body = json.dumps({"error": refusal.message, "code": TOO_MANY_CODE}).encode()
        content_type = "application/json"
    else:
        body, content_type = f"429: {refusal.message}\n".encode(), "text/plain; charset=utf-8"
    return raw_response("429 Too Many Requests", {"Content-Type": content_type,
                                                  "Retry-After": str(refusal.retry_after_s),
                                                  "X-Content-Type-Options": "nosniff",
                                                  "Cache-Control": "no-store"}, body)
