"""Shared fixtures: one embedded ClickHouse engine per test process, one database per test.

chDB lets a process open one data directory, so the session opens it once;
each test gets a fresh database in it (``store``), which isolates tests
without reopening the engine. ``server`` runs the real app under waitress
in a thread over that test's store (``start_server`` starts more, with other
settings or stores); ``client`` is a Flask test client of the viewer app
(``app_client`` makes one with other settings). Subprocess ``execlog serve``:
``benchmarks.common.ServeProcess``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from execlog_otel.config import Settings
from execlog_otel.store.client import connect
from execlog_otel.store.pool import ClientPool
from execlog_otel.store.store import Store

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from execlog_otel.server import RunningServer

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


@pytest.fixture(scope="session")
def ch_pool(chdb_url: str, ch_client):
    """The session's client and, as execlog serve's store has, more opened when reads run side by side
    (ClientPool.submit): every test store reads through it, so the concurrent reads are what the tests see."""
    pool = ClientPool(lambda: connect(chdb_url), size=3, first=ch_client)
    yield pool
    pool.close()


class _MigratedTemplate:
    """A database migrated once per test process, copied into each test's database: its tables and views as
    ``SHOW CREATE`` prints them, then the rows the migrations wrote (applied versions, prices, meta). The
    migration chain (188 statements) took 1.9 s a store, and most of the suite's time under two workers;
    the copy takes 0.4 s. The migrations themselves are tested where a test migrates a store it made with
    ``migrate=False`` (test_core_schema, test_collector_schema...)."""

    DATABASE = "execlog_test_template"
    RETENTION_DAYS = 30

    def __init__(self, client) -> None:
        Store(client, self.DATABASE, self.RETENTION_DAYS).migrate()
        # Not the tables a refreshable view fills while it runs (".tmp.inner...", swapped in when done).
        tables = client.query("SELECT name, engine, total_rows FROM system.tables WHERE database = {db:String} "
                              "AND NOT startsWith(name, '.')", parameters={"db": self.DATABASE}).result_rows
        # Tables before the views that read or feed them.
        ordered = sorted(tables, key=lambda t: t[1] in ("MaterializedView", "View"))
        self.ddl = [client.query(f"SHOW CREATE TABLE {self.DATABASE}.{name}").result_rows[0][0]
                    for name, _, _ in ordered]
        self.filled = [name for name, _, rows in tables if rows]

    def copy(self, client, database: str) -> None:
        client.command(f"CREATE DATABASE {database}")
        for ddl in self.ddl:
            client.command(ddl.replace(f"{self.DATABASE}.", f"{database}."))
        for name in self.filled:
            client.command(f"INSERT INTO {database}.{name} SELECT * FROM {self.DATABASE}.{name}")


_template: _MigratedTemplate | None = None


def new_store(client, retention_days: int = 30, migrate: bool = True) -> Store:
    """A store in a database of its own, over ``client`` (a client, or a pool of them); migrated: a copy of
    the process's migrated template, then ``migrate()`` (which finds nothing missing and installs the
    retention and the prices, as at every start)."""
    global _template
    store = Store(client, f"t_{uuid.uuid4().hex[:12]}", retention_days)
    if migrate:
        if retention_days == _MigratedTemplate.RETENTION_DAYS:
            if _template is None:
                _template = _MigratedTemplate(client)
            _template.copy(client, store.database)
        store.migrate()
    return store


@pytest.fixture
def store(ch_pool, ch_client) -> Iterator[Store]:
    s = new_store(ch_pool)
    yield s
    ch_client.command(f"DROP DATABASE IF EXISTS {s.database} SYNC")


@pytest.fixture
def settings(store: Store, chdb_url: str) -> Settings:
    return Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0,
                             clickhouse_http_port="0")


@contextmanager
def serving(settings: Settings, store: Store) -> Iterator[RunningServer]:
    """The real app under waitress in a thread over ``store``; closed (threads and connections) on exit.
    For module-scoped servers; a test uses ``start_server`` or ``server``."""
    from execlog_otel import server as server_mod

    running = server_mod.start(settings, store=store).start_background()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def start_server(settings: Settings, store: Store) -> Iterator[Callable[..., RunningServer]]:
    """Factory of in-process servers, all closed after the test: ``start_server(auth_token=...)`` over this
    test's store with settings changed (or ``settings=`` others); ``start_server(store=other)`` over another
    store (its database)."""
    base = settings

    with ExitStack() as stack:
        def start(store: Store = store, settings: Settings | None = None, **changes: Any) -> RunningServer:
            changed = replace(settings or base, **{"database": store.database, **changes})
            return stack.enter_context(serving(changed, store))

        yield start


@pytest.fixture
def server(start_server: Callable[..., RunningServer]) -> RunningServer:
    return start_server()


@pytest.fixture
def telemetry(server: RunningServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The SDK configured to send to this test's server (its service named after the test module), shut down
    after the test."""
    import execlog_otel as ex

    handle = ex.configure(endpoint=server.url, flush_interval_ms=100,
                          service_name=request.module.__name__.rsplit(".", 1)[-1].replace("_", "-"))
    yield handle
    handle.shutdown()


@pytest.fixture
def api(server: RunningServer) -> Any:
    """The JSON API of this test's server (``sdk_support.Api``), with its store."""
    from sdk_support import Api

    api = Api(server.url)
    api.store = server.store
    return api


@pytest.fixture
def app_client(settings: Settings, store: Store) -> Callable[..., FlaskClient]:
    """Factory of Flask test clients of the viewer app (no receiver) over this test's store, settings changed."""
    from execlog_otel.viewer.app import create_app

    def make(**changes: Any) -> FlaskClient:
        return create_app(replace(settings, **changes), store, receiver=False).test_client()

    return make


@pytest.fixture
def client(app_client: Callable[..., FlaskClient]) -> FlaskClient:
    return app_client()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
