"""Shared fixtures: one embedded ClickHouse engine per test process, one database per test.

chDB lets a process open one data directory, so the session opens it once;
each test gets a fresh database in it (``store``), which isolates tests
without reopening the engine. ``server`` runs the real app under waitress
in a thread over that test's store.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from execlog_otel.config import Settings
from execlog_otel.store.client import connect
from execlog_otel.store.store import Store

ARTIFACTS = Path(os.environ.get("EXECLOG_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


@pytest.fixture(scope="session")
def chdb_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="execlog-test-chdb-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def chdb_url(chdb_dir: Path) -> str:
    return f"chdb://{chdb_dir}"


@pytest.fixture(scope="session")
def ch_client(chdb_url: str):
    client = connect(chdb_url)
    yield client
    client.close()


def new_store(ch_client, retention_days: int = 30, migrate: bool = True) -> Store:
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}", retention_days)
    if migrate:
        store.migrate()
    return store


@pytest.fixture
def store(ch_client) -> Iterator[Store]:
    s = new_store(ch_client)
    yield s
    ch_client.command(f"DROP DATABASE IF EXISTS {s.database} SYNC")


@pytest.fixture
def settings(store: Store, chdb_url: str) -> Settings:
    return Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)


@pytest.fixture
def server(settings: Settings, store: Store):
    from execlog_otel import server as server_mod

    running = server_mod.start(settings, store=store).start_background()
    yield running
    running.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
