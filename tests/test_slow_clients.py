"""Slow clients cannot starve the viewer: trickling connections cost a descriptor, not the API.

Bounded for CI: 300 trickling connections (three times waitress' old limit of 100, which used to lock
everyone out) for a few seconds; README's figure for 1,000 connections over 60 s comes from
``python -m benchmarks.security_attacks --only slow``.
"""

from __future__ import annotations

import socket
import threading
import time

import urllib3

from execlog_otel import connections
from execlog_otel import server as server_mod

TRICKLERS = 300
PROBES = 20


def open_tricklers(host: str, port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    return socks


def trickle(socks: list[socket.socket], stop: threading.Event) -> None:
    while not stop.is_set():
        for s in socks:
            try:
                s.send(b"X-Slow: a\r\n")
            except OSError:
                pass
        stop.wait(0.5)


def test_trickling_connections_leave_the_api_answering(settings, store):
    running = server_mod.start(settings, store=store).start_background()
    host, port = running.url.split("//")[1].split(":")
    stop = threading.Event()
    socks = open_tricklers(host, int(port), TRICKLERS)
    feeder = threading.Thread(target=trickle, args=(socks, stop), daemon=True)
    feeder.start()
    try:
        http = urllib3.PoolManager(retries=False)
        answered = failed = 0
        for _ in range(PROBES):
            try:
                resp = http.request("GET", running.url + "/api/executions?limit=5", timeout=urllib3.Timeout(total=10),
                                    headers={"Connection": "close"})
                answered += resp.status == 200
            except urllib3.exceptions.HTTPError:
                failed += 1
                if failed > PROBES * 0.05:
                    break  # already failed: no need to wait out the rest
        assert answered >= PROBES * 0.95
        # The tricklers are still connected (none of them was refused): it is their count that no longer matters.
        alive = 0
        for s in socks:
            try:
                s.send(b"X-Slow: b\r\n")
                alive += 1
            except OSError:
                pass
        assert alive >= TRICKLERS * 0.9
    finally:
        stop.set()
        for s in socks:
            s.close()
        running.close()


def test_a_request_still_trickling_after_the_read_deadline_is_dropped(settings, store, monkeypatch):
    monkeypatch.setattr(connections, "REQUEST_READ_TIMEOUT_S", 2)
    monkeypatch.setattr(connections, "CLEANUP_INTERVAL_S", 1)
    running = server_mod.start(settings, store=store).start_background()
    host, port = running.url.split("//")[1].split(":")
    try:
        s = socket.create_connection((host, int(port)), timeout=30)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        closed = False
        for _ in range(60):  # a byte every 0.25 s: never idle for long, never complete
            time.sleep(0.25)
            try:
                s.send(b"X-Slow: a\r\n")
                sent += 1
            except OSError:
                closed = True
                break
            s.setblocking(False)
            try:
                closed = s.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            s.setblocking(True)
            if closed:
                break
        assert closed, f"still open after {sent} trickled lines"
        # A complete request on a fresh connection is answered as usual.
        assert urllib3.request("GET", running.url + "/api/health").status == 200
    finally:
        running.close()


def test_a_request_in_flight_at_shutdown_finishes_without_a_traceback(caplog):
    """SIGTERM while a request runs (CI caught it in ``execlog demo``): waitress closed the trigger the worker
    pulls when it is done, so the request ended in an EBADF traceback. Here one request outlasts the wait."""
    from waitress import create_server

    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        finished.set()
        return [b"done"]

    server = connections.install(create_server(app, host="127.0.0.1", port=0, threads=2,
                                               **connections.waitress_options()))
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    client = threading.Thread(target=lambda: urllib3.PoolManager(retries=False).request(
        "GET", f"http://127.0.0.1:{server.effective_port}/slow", timeout=urllib3.Timeout(total=10)), daemon=True)
    caplog.set_level("WARNING", logger="waitress")
    client.start()
    assert entered.wait(10)
    listener = server.socket
    connections.stop(server, timeout_s=0.2)  # the request is still running: it is not waited for
    assert "still running at shutdown" in caplog.text
    release.set()
    assert finished.wait(10)
    deadline = time.monotonic() + 10
    while server.task_dispatcher.threads and time.monotonic() < deadline:  # a worker leaves after its last pull
        time.sleep(0.05)
    assert not server.task_dispatcher.threads
    assert "Traceback" not in caplog.text and "Exception when servicing" not in caplog.text, caplog.text
    assert listener.fileno() == -1  # no longer listening (a connection attempt could reach whoever took the port)
