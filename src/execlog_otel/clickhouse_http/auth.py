"""Who may query the endpoint.

Authentication off: anyone who can reach it — and it listens on loopback only then (``listener``).
Authentication on: the viewer's people and token. ClickHouse clients send a user and a password
(``X-ClickHouse-User``/``X-ClickHouse-Key`` or Basic): a user of ``EXECLOG_AUTH_USERS`` with their
password, or any user name with ``EXECLOG_AUTH_TOKEN`` as the password (what a Grafana data source
holds). Password hashes are slow on purpose (scrypt), and Grafana sends the password with every
request: a verified pair is remembered, keyed by a keyed hash (never the password itself). Wrong
passwords meet the viewer's guessing limits (``viewer.throttle``: per address and per user name, a few
hashes at once), and an unknown user name is hashed like a known one, so timing does not tell them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from werkzeug.security import check_password_hash

from execlog_otel.clickhouse_http.errors import AUTHENTICATION_FAILED, REQUIRED_PASSWORD, ChError
from execlog_otel.config import Settings
from execlog_otel.viewer.auth import parse_users, stand_in_hash
from execlog_otel.viewer.throttle import GuessLimiter

MAX_REMEMBERED = 256


class Authenticator:
    def __init__(self, settings: Settings):
        self.enabled = settings.auth_enabled
        self._token = settings.auth_token
        self._users = parse_users(settings.auth_users)
        self._salt = secrets.token_bytes(16)
        self._verified: set[bytes] = set()
        self._guesses = GuessLimiter()
        self._lock = threading.Lock()

    def check(self, user: str, key: str, address: str = "") -> str:
        """The user the query runs as; ChError (AUTHENTICATION_FAILED, or 429 past the guessing limits of
        ``address`` and of the user name) otherwise."""
        name = user or "default"
        if not self.enabled:
            return name
        if not key:
            raise ChError.of(REQUIRED_PASSWORD, f"{name}: a password is required: send the execlog user's password "
                                                "or EXECLOG_AUTH_TOKEN (X-ClickHouse-Key or Basic authentication)")
        digest = hmac.new(self._salt, f"{name}\0{key}".encode(), hashlib.sha256).digest()
        with self._lock:
            if digest in self._verified:
                return name
        # The address's limit first, then the token (any user name goes with it, so the name's own limit,
        # which guesses from elsewhere can use up, must not keep the token out), then the name's.
        for who in (None, name):
            refusal = self._guesses.check(address, who)
            if refusal:
                raise ChError(*AUTHENTICATION_FAILED, f"{name}: {refusal.message}", refusal.retry_after_s)
            if who is None and self._token and hmac.compare_digest(key.encode("utf-8", "replace"),
                                                                   self._token.encode()):
                return name
        hashed = self._users.get(name)
        slots = self._guesses.hashing()
        if not slots.acquire(blocking=False):
            raise ChError(*AUTHENTICATION_FAILED, f"{name}: too many sign-ins at once: try again in 1 s", 1)
        try:
            ok = check_password_hash(hashed or stand_in_hash(), key)
        finally:
            slots.release()
        if ok and hashed:
            with self._lock:
                if len(self._verified) >= MAX_REMEMBERED:
                    self._verified.clear()
                self._verified.add(digest)
            return name
        self._guesses.failed(address, name)
        raise ChError.of(AUTHENTICATION_FAILED, f"{name}: Authentication failed: password is incorrect, or there is "
                                                "no user with such name")
