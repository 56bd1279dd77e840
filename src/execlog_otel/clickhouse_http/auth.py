"""Who may query the endpoint.

Authentication off: anyone who can reach it — and it listens on loopback only then (``listener``).
Authentication on: the viewer's people and token. ClickHouse clients send a user and a password
(``X-ClickHouse-User``/``X-ClickHouse-Key`` or Basic): a user of ``EXECLOG_AUTH_USERS`` with their
password, or any user name with ``EXECLOG_AUTH_TOKEN`` as the password (what a Grafana data source
holds). Password hashes are slow on purpose (scrypt), and Grafana sends the password with every
request: a verified pair is remembered, keyed by a keyed hash (never the password itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from werkzeug.security import check_password_hash

from execlog_otel.clickhouse_http.errors import AUTHENTICATION_FAILED, REQUIRED_PASSWORD, ChError
from execlog_otel.config import Settings
from execlog_otel.viewer.auth import parse_users

MAX_REMEMBERED = 256


class Authenticator:
    def __init__(self, settings: Settings):
        self.enabled = settings.auth_enabled
        self._token = settings.auth_token
        self._users = parse_users(settings.auth_users)
        self._salt = secrets.token_bytes(16)
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, user: str, key: str) -> str:
        """The user the query runs as; ChError (AUTHENTICATION_FAILED) otherwise."""
        name = user or "default"
        if not self.enabled:
            return name
        if not key:
            raise ChError.of(REQUIRED_PASSWORD, f"{name}: a password is required: send the execlog user's password "
                                                "or EXECLOG_AUTH_TOKEN (X-ClickHouse-Key or Basic authentication)")
        if self._token and hmac.compare_digest(key.encode(), self._token.encode()):
            return name
        digest = hmac.new(self._salt, f"{name}\0{key}".encode(), hashlib.sha256).digest()
        with self._lock:
            if digest in self._verified:
                return name
        hashed = self._users.get(name)
        if hashed and check_password_hash(hashed, key):
            with self._lock:
                if len(self._verified) >= MAX_REMEMBERED:
                    self._verified.clear()
                self._verified.add(digest)
            return name
        raise ChError.of(AUTHENTICATION_FAILED, f"{name}: Authentication failed: password is incorrect, or there is "
                                                "no user with such name")
