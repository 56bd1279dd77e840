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

Password guessers are turned away here too, before the app: ``install(server, screen)`` asks the app's
``screen`` (``viewer.guess_screen.GuessScreen``) about every request waitress has read, still in the loop
thread; a request the app would refuse with 429 (its address is over its guessing limit) never reaches
a worker thread or Flask. Its 429 is written by the loop after ``HOLD_S`` (a tarpit that holds a file
descriptor, not a thread), and the connection is closed. A client guessing as fast as it is answered
then makes a request every ``HOLD_S`` per connection instead of keeping every worker busy; at most
``MAX_HELD`` connections are held at once, beyond that the 429 goes out at once.

Beyond ``MAX_CONNECTIONS`` slow clients this is not enough: an internet-facing install belongs behind
a reverse proxy that buffers requests and limits connections per client (README, "Security").
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from waitress.channel import HTTPChannel

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 4000
# From a request's first byte to its last (16 MB OTLP bodies: 0.5 MB/s at least); also how long a
# keep-alive connection may sit idle between requests (waitress' channel_timeout serves both).
REQUEST_READ_TIMEOUT_S = 30
CLEANUP_INTERVAL_S = 5  # how often the deadlines are checked
FDS_KEPT_FREE = 512  # for the store, the spool, outbound calls and the worker threads
HOLD_S = 2.0  # how long a turned-away guess waits for its 429 (waitress' loop wakes at least every second)
MAX_HELD = 512  # connections held at once; more are answered at once, so holding cannot use up the limit
# Bytes asked of the socket per read (waitress reads 8 KiB by default): an exporter's request of 512 spans is
# about 340 KB, 42 reads at 8 KiB. Each read is one turn of the loop thread, which must take the interpreter
# lock back from the request threads decoding other bodies; 256 KiB makes it one or two turns.
RECV_BYTES = 256 * 1024

# (peer address, method, path, headers as waitress keys them: "AUTHORIZATION", "X_FORWARDED_FOR") -> the
# raw HTTP response to turn the request away with, or None to hand it to the app.
Screen = Callable[[str, str, str, Mapping[str, str]], bytes | None]


class DeadlineChannel(HTTPChannel):
    """A waitress channel whose timeout, while a request is being received, runs from the request's start,
    and that can answer a turned-away request itself after a hold."""

    _request_began: float | None = None
    _receiving = False  # parsing what was read, in the loop thread (not a worker's follow-up dispatch)
    _answer_at: float | None = None  # turned away: when to write _answer (then close)
    _answer = b""
    _held: _Held | None = None

    def received(self, data: bytes) -> bool:
        self._receiving = True
        try:
            return super().received(data)
        finally:
            self._receiving = False

    def turn_away(self, answer: bytes, held: _Held) -> None:
        """Drop the parsed request(s) and answer ``answer`` from the loop after a hold, then close."""
        self.requests.clear()  # under requests_lock (called from received)
        self._answer = answer
        self._held = held if held.take() else None
        self._answer_at = time.monotonic() + (HOLD_S if self._held else 0)

    def readable(self) -> bool:
        return self._answer_at is None and super().readable()

    def writable(self) -> bool:
        # Polled by the loop on every pass: the moment to write a held answer.
        if self._answer and time.monotonic() >= (self._answer_at or 0):
            with self.outbuf_lock:
                self.outbufs[-1].append(self._answer)
                self.total_outbufs_len += len(self._answer)
            self._answer = b""
            self.close_when_flushed = True
            self._release()
        return super().writable()

    def handle_close(self) -> None:
        self._release()
        super().handle_close()

    def _release(self) -> None:
        if self._held is not None:
            self._held.give_back()
            self._held = None

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
            "cleanup_interval": CLEANUP_INTERVAL_S, "asyncore_use_poll": True, "recv_bytes": RECV_BYTES,
            "clear_untrusted_proxy_headers": not trusted_proxies}


class _Held:
    """How many turned-away connections are being held (loop thread only, but cheap to make safe)."""

    def __init__(self, limit: int = MAX_HELD) -> None:
        self.limit, self.count, self._lock = limit, 0, threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.count -= 1


def install(server: Any, screen: Screen | None = None) -> Any:
    """Give a waitress server the read-deadline channels and, with ``screen``, the early refusal; returns it.

    waitress has no hook between "request read" and "handed to a worker thread" but ``add_task``,
    which the channel calls from the loop thread for the first request it queues (and a worker calls
    for pipelined follow-ups, which go to the app unscreened: the app applies the same limits)."""
    server.channel_class = DeadlineChannel
    if screen is not None:
        dispatch, held = server.add_task, _Held()

        def add_task(channel: Any) -> None:
            if isinstance(channel, DeadlineChannel) and channel._receiving:
                if channel._answer_at is not None:  # pipelined behind a turned-away request: dropped
                    channel.requests.clear()
                    return
                request = channel.requests[0]
                try:
                    answer = None if request.error else screen(channel.addr[0], request.command, request.path,
                                                               request.headers)
                except Exception:  # noqa: BLE001 - the app applies the same limits; never break the loop
                    log.exception("screening a request failed; handing it to the app")
                    answer = None
                if answer is not None:
                    channel.turn_away(answer, held)
                    return
            dispatch(channel)

        server.add_task = add_task
    return server


def stop(server: Any, timeout_s: float = 10.0) -> None:
    """Stop a waitress server from any thread: stop accepting, let the requests in flight finish, close the rest.

    waitress's own ``close()`` closes the trigger a worker thread pulls when it finishes a request, so a
    request still running then ends in a traceback (EBADF). Here the trigger is closed only once no worker
    runs; a worker still busy after ``timeout_s`` keeps it (and its connection) open until the process ends."""
    from waitress import wasyncore

    try:
        wasyncore.dispatcher.close(server)  # the listening socket only, not the trigger
    except OSError:
        pass
    dispatcher = server.task_dispatcher
    dispatcher.shutdown(timeout=timeout_s)
    if dispatcher.threads:
        log.warning("%d request(s) still running at shutdown after %g s; not waiting for them",
                    len(dispatcher.threads), timeout_s)
        return
    wasyncore.close_all(server._map)  # the trigger and the open connections


def raw_response(status: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """An HTTP/1.1 response that closes the connection, for answers written without the app."""
    head = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()),
            f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
