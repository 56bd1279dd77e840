"""A least-recently-used cache the request threads share: cachetools' ``LRUCache`` behind a lock (cachetools'
caches are not thread-safe: two threads evicting at once could drop the same entry twice)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")


class SharedLRU(Generic[V]):
    """At most ``maxsize`` (by ``getsizeof`` of each value, else one per entry); a value larger than the whole
    cache is not kept."""

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None):
        self._items: LRUCache[Hashable, V] = LRUCache(maxsize=maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if key not in self._items and self._items.getsizeof(value) <= self._items.maxsize:
                self._items[key] = value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._items
