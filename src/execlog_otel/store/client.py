"""Store URL -> clickhouse-connect Client, for the embedded engine and servers alike.

``chdb:///path`` opens the embedded ClickHouse engine (chDB) in-process;
``http(s)://user:password@host:port/database`` reaches a ClickHouse server.
chDB lets one process own a data directory: ``DataDirLock`` takes an
exclusive lock next to the data and records the owner's PID and URL, so a
second process can say who holds it or talk to that server instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from execlog_otel.config import redact_url

LOCK_FILE = "execlog.lock"


class StoreError(RuntimeError):
    """The store cannot be used; the message names the URL and the reason."""


class StoreInUse(StoreError):
    def __init__(self, data_dir: Path, owner: dict[str, Any]):
        self.data_dir = data_dir
        self.owner = owner
        pid = owner.get("pid", "?")
        url = owner.get("url") or ""
        hint = f"; it serves {url}" if url else ""
        super().__init__(f"the data directory {data_dir} is in use by process {pid}{hint}")


def chdb_path(url: str) -> Path | None:
    if not url.startswith("chdb:"):
        return None
    p = urlparse(url)
    location = p.netloc + p.path if p.netloc and p.netloc not in ("memory", ":memory:") else p.path
    return Path(unquote(location)) if location else None


class DataDirLock:
    """An exclusive, advisory lock on a data directory, released when the process exits."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_FILE
        self._fd: int | None = None

    def owner(self) -> dict[str, Any] | None:
        """Who holds the lock, or None when nobody does."""
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    return json.loads(Path(self.path).read_text() or "{}")
                except (OSError, ValueError):
                    return {"pid": "?"}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def acquire(self, url: str = "") -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreInUse(self.data_dir, self.owner() or {}) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "url": url}).encode())
        os.fsync(fd)
        self._fd = fd

    def set_url(self, url: str, **extra: str) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps({"pid": os.getpid(), "url": url, **extra}).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def connect(url: str, database: str | None = None, settings: dict[str, Any] | None = None,
            readonly: bool = False) -> Client:
    """Open a clickhouse-connect client for a store URL; errors name the URL and the cause."""
    shown = redact_url(url)
    parsed = urlparse(url)
    if parsed.scheme not in ("chdb", "http", "https"):
        raise StoreError(f"unsupported store URL {shown!r}: use chdb:///path or http(s)://host:port/database")
    try:
        if parsed.scheme == "chdb":
            path = chdb_path(url)
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
            chdb_settings = dict(settings or {})
            if readonly:
                chdb_settings.setdefault("readonly", 2)  # per client: this client reads, others may write
            return clickhouse_connect.get_client(dsn=url, settings=chdb_settings)
        db = database or (parsed.path.strip("/") or None)
        client_settings = dict(settings or {})
        if readonly:
            # readonly=2 still lets the client set per-query settings (max_execution_time).
            client_settings.setdefault("readonly", 2)
        return clickhouse_connect.get_client(dsn=url, database=db, settings=client_settings,
                                             connect_timeout=5, send_receive_timeout=60)
    except Exception as exc:  # noqa: BLE001 - any driver failure becomes one clear line
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", reason)
        if errno:
            reason = errno.group(1).strip()
        if "Cannot lock file" in reason:
            raise StoreError(f"cannot open {shown}: another process has this data directory open") from None
        raise StoreError(f"cannot reach ClickHouse at {shown}: {reason}") from None
