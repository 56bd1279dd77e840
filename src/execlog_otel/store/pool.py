"""A pool of clients to one store, exposing only what the project calls: query, command, insert.

A clickhouse-connect client runs one call at a time: the chDB backend holds a
per-client lock, and an HTTP client shares one session, which ClickHouse
locks per query. ``execlog serve`` and ``execlog viewer`` answer many requests
at once (receiver inserts, 50 people browsing), so their store opens a pool of
several clients: each call borrows an idle client, or opens another up to
``size``, and gives it back when the call returns. Results are fully read
before that, so no call leaves state on a client. A pool of size 1 (tests, the
exporter, one-shot commands) is one client used one call at a time.

``submit`` starts a query on another client and returns at once, so a request
whose reads do not depend on each other (a listing page and its count, a
detail's spans and their costs) waits for the slowest of them, not their sum:
chDB runs queries of different clients at the same time, on every core. With
one client, ``submit`` runs the query before returning.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.query import QueryResult
from clickhouse_connect.driver.summary import QuerySummary


class ClientPool:
    """Each call runs on a client of its own for the call's duration."""

    def __init__(self, factory: Callable[[], Client] | None = None, size: int = 1, first: Client | None = None,
                 lazy: bool = False):
        """``lazy``: open the first client on the first call instead of now (a client the app may never use)."""
        if factory is None and first is None:
            raise ValueError("a pool needs a client factory or a first client")
        self._factory = factory
        self._size = max(1, size) if factory is not None else 1
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue()
        self._all: list[Client | None] = []
        self._lock = threading.Lock()
        if first is None and not lazy:
            first = factory()  # type: ignore[misc]  # a bad URL fails here, with the store's message
        if first is not None:
            self._all.append(first)
            self._idle.put(first)
        # Threads that run submitted queries (started as needed, at most one per client).
        self._runner = ThreadPoolExecutor(self._size, thread_name_prefix="execlog-query") if self._size > 1 else None

    @classmethod
    def of(cls, client: Client) -> ClientPool:
        """One given client (its owner closes it)."""
        return cls(first=client)

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
                client = self._factory()  # type: ignore[misc]
            except Exception:
                with self._lock:
                    self._all.remove(None)
                raise
            with self._lock:
                self._all[self._all.index(None)] = client
            return client
        return self._idle.get()

    @contextmanager
    def _client(self) -> Iterator[Client]:
        client = self._borrow()
        try:
            yield client
        finally:
            self._idle.put(client)

    def query(self, sql: str, parameters: dict[str, Any] | None = None,
              settings: dict[str, Any] | None = None) -> QueryResult:
        with self._client() as client:
            return client.query(sql, parameters=parameters, settings=settings)

    def submit(self, sql: str, parameters: dict[str, Any] | None = None,
               settings: dict[str, Any] | None = None) -> Future[QueryResult]:
        """``query`` on another client, while the caller goes on; its ``result()`` is the query's, or raises its
        error. The caller must hold no client while it waits (no call of this pool does)."""
        if self._runner is None:
            done: Future[QueryResult] = Future()
            try:
                done.set_result(self.query(sql, parameters, settings))
            except Exception as exc:  # noqa: BLE001 - raised again by result(), as a thread's would be
                done.set_exception(exc)
            return done
        return self._runner.submit(self.query, sql, parameters, settings)

    def command(self, sql: str, parameters: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None) -> Any:
        with self._client() as client:
            return client.command(sql, parameters=parameters, settings=settings)

    def insert(self, table: str, data: Any, column_names: list[str] | str = "*", column_oriented: bool = False,
               settings: dict[str, Any] | None = None) -> QuerySummary:
        with self._client() as client:
            return client.insert(table, data, column_names=column_names, column_oriented=column_oriented,
                                 settings=settings)

    def raw_insert(self, table: str, column_names: list[str], data: bytes, fmt: str,
                   settings: dict[str, Any] | None = None) -> QuerySummary:
        """Insert bytes already in a ClickHouse input format (parsed by ClickHouse, not in Python)."""
        with self._client() as client:
            return client.raw_insert(table, column_names, data, settings=settings, fmt=fmt)

    @property
    def size(self) -> int:
        return len(self._all)

    def close(self) -> None:
        if self._runner is not None:
            self._runner.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            clients, self._all = [c for c in self._all if c is not None], []
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing must never raise
                pass
