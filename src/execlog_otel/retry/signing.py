"""HMAC-SHA256 signatures on retry requests between the viewer and a runner's retry listener.

The viewer signs ``timestamp + "." + nonce + "." + body`` with the shared secret
(``EXECLOG_RETRY_SECRET``); the listener recomputes it, refuses a timestamp
older (or further in the future) than ``MAX_AGE_S`` and a nonce it has already
seen, so a captured request can neither be altered, kept for later nor replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

TIMESTAMP_HEADER = "X-Execlog-Timestamp"
NONCE_HEADER = "X-Execlog-Nonce"
SIGNATURE_HEADER = "X-Execlog-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_AGE_S = 300  # older (or later) requests are stale
_NONCE_CHARS = set("0123456789abcdefABCDEF-_")


class SignatureError(ValueError):
    """A request whose signature does not hold; ``code`` says which check failed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # "bad_signature" | "stale" | "replayed"


def _message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode("ascii") + b"." + nonce.encode("ascii") + b"." + body


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), _message(timestamp, nonce, body), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def sign(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers that sign ``body`` for the listener (a fresh nonce each call)."""
    if not secret:
        raise ValueError("no retry secret: set EXECLOG_RETRY_SECRET to the same value for the viewer and the runner")
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(secret, timestamp, nonce, body)}


class NonceCache:
    """Nonces seen within the freshness window (older ones are stale anyway, so they can be forgotten)."""

    def __init__(self, ttl_s: float = MAX_AGE_S * 2, max_entries: int = 100_000) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, nonce: str, now: float) -> bool:
        """Record ``nonce``; False when it was already seen (a replay)."""
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - self._ttl or len(self._seen) >= self._max):
                self._seen.popitem(last=False)
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


@dataclass(frozen=True)
class Verifier:
    secret: str
    nonces: NonceCache
    max_age_s: int = MAX_AGE_S

    def verify(self, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
        """Raise SignatureError unless ``body`` is signed with our secret, fresh, and not seen before."""
        now = time.time() if now is None else now
        timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
        nonce = (headers.get(NONCE_HEADER) or "").strip()
        given = (headers.get(SIGNATURE_HEADER) or "").strip()
        if not timestamp or not nonce or not given:
            raise SignatureError("bad_signature", f"unsigned request: {TIMESTAMP_HEADER}, {NONCE_HEADER} and "
                                                  f"{SIGNATURE_HEADER} headers are required")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            raise SignatureError("bad_signature", f"{TIMESTAMP_HEADER} must be whole seconds since the epoch")
        if not 16 <= len(nonce) <= 64 or not set(nonce) <= _NONCE_CHARS:
            raise SignatureError("bad_signature", f"{NONCE_HEADER} must be 16-64 hexadecimal characters")
        expected = signature(self.secret, timestamp, nonce, body)
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise SignatureError("bad_signature", "bad signature: the request was not signed with this runner's "
                                                  "EXECLOG_RETRY_SECRET (viewer and runner must share it)")
        age = now - int(timestamp)
        if abs(age) > self.max_age_s:
            raise SignatureError("stale", f"stale request: signed {int(age)} s ago, more than {self.max_age_s} s "
                                          "(check the clocks of viewer and runner)")
        if not self.nonces.add(nonce, now):
            raise SignatureError("replayed", "replayed request: this signed request was already received")
