"""Guessing limits: failed sign-ins and wrong bearer or ingest tokens, per client address and per user name.

Checked before any password hash is computed, so a flood of guesses costs the server a dictionary
lookup each, not an scrypt hash; and at most ``HASH_SLOTS`` hashes run at once, so guesses from many
addresses cannot occupy every web thread either. Counting uses the ``limits`` library's moving
windows in memory (one viewer process; behind several processes each keeps its own count). A client
over a limit gets 429 with ``Retry-After`` and a message saying when to try again.

The per-user limit also slows an attacker who spreads guesses over many addresses; its price is that
someone guessing a user's password can keep that user from signing in for the window (the bearer
token and other users still work). The client address is the TCP peer, or what a trusted proxy says
(``EXECLOG_TRUSTED_PROXIES``, see ``viewer.security``).
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

PER_ADDRESS = parse("10/minute")  # failed sign-ins or wrong bearer tokens from one address
PER_USER = parse("10/minute")  # failed sign-ins naming one user (known or not)
HASH_SLOTS = 2  # password hashes computed at once (each takes tens of milliseconds of CPU)
TOO_MANY_CODE = "too_many_attempts"  # the "code" of a 429 JSON error body


@dataclass
class Refusal:
    retry_after_s: int
    message: str


@dataclass
class GuessLimiter:
    per_address: RateLimitItem = PER_ADDRESS
    per_user: RateLimitItem = PER_USER
    hash_slots: int = HASH_SLOTS
    _limiter: MovingWindowRateLimiter = field(default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))
    _hashing: threading.BoundedSemaphore | None = None

    def __post_init__(self) -> None:
        self._hashing = threading.BoundedSemaphore(self.hash_slots)

    def _keys(self, address: str, user: str | None) -> list[tuple[RateLimitItem, tuple[str, str]]]:
        keys = [(self.per_address, ("address", address or "?"))]
        if user is not None:
            keys.append((self.per_user, ("user", user.strip().lower()[:200])))
        return keys

    def check(self, address: str, user: str | None = None) -> Refusal | None:
        """A refusal when the address (or the user name) used up its failures; None to go on."""
        for item, key in self._keys(address, user):
            if not self._limiter.test(item, *key):
                reset = self._limiter.get_window_stats(item, *key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                who = "this address" if key[0] == "address" else "this user name"
                return Refusal(wait, f"too many failed attempts from {who}: try again in {wait} s")
        return None

    def failed(self, address: str, user: str | None = None) -> None:
        for item, key in self._keys(address, user):
            self._limiter.hit(item, *key)

    def bearer(self, expected: str, given: str, address: str) -> bool | Refusal:
        """Whether ``given`` is the token ``expected``; a Refusal (nothing compared) while ``address`` is over
        its limit of wrong ones. Each wrong token counts."""
        refusal = self.check(address)
        if refusal:
            return refusal
        if hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            return True
        self.failed(address)
        return False

    def hashing(self) -> threading.BoundedSemaphore:
        """Hold while computing a password hash: ``acquire(blocking=False)`` false means too many at once."""
        assert self._hashing is not None
        return self._hashing
