"""A small pool of clients to one store, so concurrent requests query in parallel.

A clickhouse-connect client runs one call at a time: the chDB backend holds a
per-client lock, and an HTTP client shares one session, which ClickHouse
locks per query. ``execlog serve`` and ``execlog viewer`` answer many requests
at once (receiver inserts, 50 people browsing), so their store gets a pool:
each call borrows an idle client, or opens another up to ``size``, and gives
it back when the call returns. Results are fully read before that, so no call
leaves state on a client.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from clickhouse_connect.driver.client import Client


class ClientPool:
    """Looks like a client; each method call runs on a client of its own for the call's duration."""

    def __init__(self, factory: Callable[[], Client], size: int, first: Client | None = None):
        self._factory = factory
        self._size = max(1, size)
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue()
        self._all: list[Client] = []
        self._lock = threading.Lock()
        first = first or factory()
        self._all.append(first)
        self._idle.put(first)
        self._first = first

    def _borrow(self) -> Client:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = len(self._all) < self._size
            if grow:
                self._all.append(None)  # reserve the slot; open outside the lock
        if grow:
            try:
                client = self._factory()
            except Exception:
                with self._lock:
                    self._all.remove(None)
                raise
            with self._lock:
                self._all[self._all.index(None)] = client
            return client
        return self._idle.get()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._first, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            client = self._borrow()
            try:
                return getattr(client, name)(*args, **kwargs)
            finally:
                self._idle.put(client)

        return call

    @property
    def size(self) -> int:
        return len(self._all)

    def close(self) -> None:
        with self._lock:
            clients, self._all = [c for c in self._all if c is not None], []
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing must never raise
                pass
