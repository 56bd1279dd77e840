"""The dead-letter file: rows the store refused for data reasons, isolated so later batches never wait.

``dead-letter.jsonl`` in the log directory holds one JSON line per row: an id, when, the table, the
store's reason and the row (column name -> value, escaped so any text survives). ``execlog dead-letter``
lists, exports and re-queues them (``requeue`` appends them to the log again, for when the cause was
fixed on the store's side). Bounded: past ``max_bytes`` further rows are counted and logged, not kept.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "dead-letter.jsonl"
REQUEST_NAME = "requeue.request"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)


def entries(directory: str | Path) -> Iterator[dict[str, Any]]:
    """Every readable entry of a log directory's dead-letter file, oldest first."""
    path = Path(directory) / FILE_NAME
    try:
        f = open(path, encoding="ascii", errors="replace")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash in mid-write
            if isinstance(entry, dict) and "row" in entry:
                yield entry


class DeadLetter:
    """Append rows with their reason; count them; take them out again for a requeue."""

    def __init__(self, directory: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(directory) / FILE_NAME
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.count = sum(1 for _ in entries(directory))
        self.refused = 0  # rows not kept because the file was full

    def add(self, table: str, names: list[str], columns: list[list[Any]], index: int, reason: str) -> None:
        row = {name: col[index] for name, col in zip(names, columns, strict=True)}
        line = _text({"id": uuid.uuid4().hex[:16], "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "table": table, "reason": reason[:2000], "row": row}) + "\n"
        with self._lock:
            size = self.path.stat().st_size if self.path.exists() else 0
            if size + len(line) > self.max_bytes:
                self.refused += 1
                log.error("dead-letter file %s is full (%d bytes): a refused row was not kept (%s)", self.path,
                          self.max_bytes, reason[:200])
                return
            with open(self.path, "a", encoding="ascii") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self.count += 1
        log.error("the store refused a row of %s (%s); it is in the dead-letter file %s", table, reason[:300],
                  self.path)

    def take(self, ids: set[str] | None) -> list[dict[str, Any]]:
        """Remove and return the entries with these ids (all when None)."""
        with self._lock:
            keep, taken = [], []
            for entry in entries(self.path.parent):
                (taken if ids is None or entry.get("id") in ids else keep).append(entry)
            tmp = self.path.with_suffix(".jsonl.tmp")
            with open(tmp, "w", encoding="ascii") as f:
                f.writelines(_text(e) + "\n" for e in keep)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            self.count = len(keep)
            return taken


def rows_to_columns(taken: list[dict[str, Any]]) -> dict[tuple[str, tuple[str, ...]], list[list[Any]]]:
    """Dead-letter entries grouped per (table, column names) as columns, ready to append to the log."""
    groups: dict[tuple[str, tuple[str, ...]], list[list[Any]]] = {}
    for entry in taken:
        names = tuple(entry["row"])
        cols = groups.setdefault((entry["table"], names), [[] for _ in names])
        for col, name in zip(cols, names, strict=True):
            col.append(entry["row"][name])
    return groups


def request_requeue(directory: str | Path, ids: list[str] | None) -> Path:
    """Ask the process owning the log to requeue entries (it looks for this file about once a second)."""
    path = Path(directory) / REQUEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"ids": ids}))
    os.replace(tmp, path)
    return path


def read_request(directory: str | Path) -> tuple[bool, set[str] | None]:
    """(asked, ids) of a pending requeue request, removing it; ids None means all."""
    path = Path(directory) / REQUEST_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return False, None
    except (OSError, ValueError):
        data = {"ids": []}
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    ids = data.get("ids") if isinstance(data, dict) else []
    return True, (set(ids) if isinstance(ids, list) else None)
