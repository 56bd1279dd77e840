"""One daemon thread that calls back when an execution's time budget runs out.

A synchronous run cannot be interrupted from outside, so at its deadline the
execution is marked Rejected (a state marker, visible while the code still
runs) and ends Rejected whenever it returns. One thread serves every
execution: a heap of deadlines under a condition variable.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    def schedule(self, delay_s: float, callback: Callable[[], None]) -> int:
        """Call ``callback`` (on the watchdog thread) after ``delay_s`` seconds; returns a handle."""
        handle = next(self._ids)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, handle, callback))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="execlog-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
        return handle

    def cancel(self, handle: int) -> None:
        with self._cond:
            if any(h == handle for _, h, _ in self._heap):
                self._cancelled.add(handle)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._cond.wait(timeout)
                _, handle, callback = heapq.heappop(self._heap)
                if handle in self._cancelled:
                    self._cancelled.discard(handle)
                    continue
            try:
                callback()
            except Exception:  # noqa: BLE001 - a failing callback must not stop the others
                pass


WATCHDOG = Watchdog()
