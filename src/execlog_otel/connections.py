"""How ``execlog serve`` and ``execlog viewer`` hold client connections: many idle ones are cheap, slow ones end.

waitress serves connections from one asyncore loop (``poll()``, so no FD_SETSIZE limit) and hands only
complete requests to its worker threads, so a connection that trickles bytes costs a file descriptor,
not a thread. Two things made trickling clients starve everyone (measured, issue #13):

- waitress' default ``connection_limit`` of 100: past it, new connections wait in the listen backlog,
  so 100 slow clients lock everyone else out. Here the limit is ``MAX_CONNECTIONS`` (bounded by the
  process's file-descriptor limit, which is raised to its hard limit).
- its idle timeout counts from the last byte received, so a client sending a byte every few seconds
  is never idle. ``DeadlineChannel`` counts from the start of the request instead: a request that is
  not complete ``REQUEST_READ_TIMEOUT_S`` after its first byte is dropped. Between requests the
  normal idle timeout applies (keep-alive).

Beyond ``MAX_CONNECTIONS`` slow clients this is not enough: an internet-facing install belongs behind
a reverse proxy that buffers requests and limits connections per client (README, "Security").
"""

from __future__ import annotations

import resource
import time
from typing import Any

from waitress.channel import HTTPChannel

MAX_CONNECTIONS = 4000
# From a request's first byte to its last (16 MB OTLP bodies: 0.5 MB/s at least); also how long a
# keep-alive connection may sit idle between requests (waitress' channel_timeout serves both).
REQUEST_READ_TIMEOUT_S = 30
CLEANUP_INTERVAL_S = 5  # how often the deadlines are checked
FDS_KEPT_FREE = 512  # for the store, the spool, outbound calls and the worker threads


class DeadlineChannel(HTTPChannel):
    """A waitress channel whose timeout, while a request is being received, runs from the request's start."""

    _request_began: float | None = None

    def handle_read(self) -> None:
        if self.request is None:
            self._request_began = None
        began = self._request_began or time.time()
        super().handle_read()
        if self.request is not None and not self.requests:
            # Still receiving a request: waitress' idle check (maintenance) compares last_activity with
            # channel_timeout; pinning it to the request's start turns that into a read deadline.
            self._request_began = began
            self.last_activity = began
        else:
            self._request_began = None


def connection_limit() -> int:
    """MAX_CONNECTIONS, or fewer when the file-descriptor limit cannot be raised enough."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_CONNECTIONS + FDS_KEPT_FREE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(100, min(MAX_CONNECTIONS, soft - FDS_KEPT_FREE))


def waitress_options(trusted_proxies: tuple[str, ...] = ()) -> dict[str, Any]:
    """Keyword arguments for ``waitress.create_server`` (then ``install`` on the server it made).

    waitress drops every X-Forwarded-* header unless told which single peer to trust; with
    ``EXECLOG_TRUSTED_PROXIES`` set, the app's own check (``viewer.security``, addresses and networks)
    decides instead, and drops them from any other peer."""
    return {"connection_limit": connection_limit(), "channel_timeout": REQUEST_READ_TIMEOUT_S,
            "cleanup_interval": CLEANUP_INTERVAL_S, "asyncore_use_poll": True,
            "clear_untrusted_proxy_headers": not trusted_proxies}


def install(server: Any) -> Any:
    """Give a waitress server the read-deadline channels; returns it."""
    server.channel_class = DeadlineChannel
    return server
