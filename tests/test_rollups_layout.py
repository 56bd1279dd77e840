"""The rollups' layout for reads by key (granules of 256 rows, 16 KB blocks): a new store has it, and a store made
before migration 041 is rebuilt into it without losing or counting twice a sum, the listing unchanged."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

import sql_fixture_data as fx
from execlog_otel import server as server_mod
from execlog_otel.config import Settings
from execlog_otel.store import rebuild, schema
from execlog_otel.store.store import Store
from reliability_support import interrupt_rebuild
from sdk_support import Api

REBUILD = "041_rollups_small_granules"
CURRENT = "index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 16384"
BEFORE = "index_granularity = 8192"  # as migration 003 made the table until 041
ROLLUPS = ("SELECT TraceId, sum(Steps), sum(FailedSteps), sum(InputTokens), sum(OutputTokens), "
           "round(sum(PricedCostUsd), 9), sum(CostSteps), sum(UnpricedSteps), sum(UsageTotalTokens), "
           "arraySort(groupUniqArrayArray(Tools)), arraySort(groupUniqArrayArray(Models)) "
           "FROM {db}.execlog_trace_rollups GROUP BY TraceId ORDER BY TraceId")


def _ddl(store: Store) -> str:
    return store.pool.query("SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                            "AND name = 'execlog_trace_rollups'", parameters={"db": store.database}).result_rows[0][0]


def _rows(store: Store, sql: str) -> list[tuple]:
    return store.pool.query(sql.format(db=store.database)).result_rows


@pytest.fixture
def store_before_041(ch_client):
    """A store whose rollups table has the layout of before migration 041, every migration up to 040 applied."""
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    ch_client.command(f"CREATE DATABASE {store.database}")
    ddl = schema.render("{execlog_trace_rollups_table}", store.database)
    assert CURRENT in ddl
    ch_client.command(ddl.replace(CURRENT, BEFORE))
    store.migrate(up_to=40)
    yield store
    ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_a_new_store_has_the_rollups_in_small_granules(store):
    assert CURRENT in _ddl(store) and rebuild.is_current(store, "execlog_trace_rollups")


def test_rollups_made_before_are_rebuilt_without_loss_and_serve_the_listing(store_before_041, chdb_url):
    store = store_before_041
    assert BEFORE in _ddl(store) and not rebuild.is_current(store, "execlog_trace_rollups")
    fx.load(store)
    rollups = _rows(store, ROLLUPS)
    assert len(rollups) > 3 and any(r[5] for r in rollups) and any(r[9] for r in rollups)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    running = server_mod.start(settings, store=store).start_background()
    try:
        api = Api(running.url)
        listing = [item for item in api.list(limit=100) if not item["live"]]
        finished = listing[0]["id"]
        detail = api.detail(finished)

        assert REBUILD in store.migrate()

        assert CURRENT in _ddl(store)
        assert _rows(store, ROLLUPS) == rollups  # every sum once: the rows were moved, not fed to a view
        assert not _rows(store, "SELECT name FROM system.tables WHERE database = '{db}' "
                                "AND (name LIKE '%previous%' OR name LIKE '%staging%')")
        assert [item for item in api.list(limit=100) if not item["live"]] == listing
        assert api.detail(finished) == detail
        # Spans arriving after the swap feed the new table once: the same traces a day earlier double each count.
        fx.load(store, now=datetime.now(UTC) - timedelta(days=1))
        assert [r[:3] for r in _rows(store, ROLLUPS)] == [(t, 2 * n, 2 * f) for t, n, f, *_ in rollups]
    finally:
        running.close()
    assert store.migrate() == []  # the current layout is left alone


def test_an_interrupted_rollups_rebuild_resumes_where_it_stopped(store_before_041, monkeypatch):
    store = store_before_041
    fx.load(store)
    rollups = _rows(store, ROLLUPS)
    interrupt_rebuild(store, monkeypatch, "execlog_trace_rollups")
    assert REBUILD in store.migrate()
    assert _rows(store, ROLLUPS) == rollups


HASH_COLUMN = "    TraceHash UInt64 MATERIALIZED cityHash64(TraceId) CODEC(ZSTD(1)),\n"


@pytest.mark.parametrize(("migration", "table"), [("045_rollup_trace_hash", "execlog_trace_rollups"),
                                                  ("047_execution_trace_hash", "execlog_executions")])
def test_rows_stored_before_their_trace_hash_get_it_and_the_same_totals(ch_client, store, migration, table):
    """The totals under a filter build a set of the matched executions' trace hashes (047) and probe the rollups'
    (045) with it: a store made before either migration gets the column (computed for the rows it holds, then
    written into them by a mutation) and shows the totals of a store made with it (``store``), the same spans in
    both."""
    from execlog_otel.store.filters import ListFilter
    from execlog_otel.store.repository import Repository

    version = int(migration[:3])
    older = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    ch_client.command(f"CREATE DATABASE {older.database}")
    try:
        if table == "execlog_trace_rollups":  # made by its own DDL (migration 041 rebuilds it in it)
            ddl = schema.render("{execlog_trace_rollups_table}", older.database)
            assert HASH_COLUMN in ddl
            ch_client.command(ddl.replace(HASH_COLUMN, ""))
        older.migrate(up_to=version - 1)
        assert _rows(older, f"SELECT count() FROM system.columns WHERE database = '{{db}}' AND table = '{table}' "
                            "AND name = 'TraceHash'") == [(0,)]
        now = datetime.now(UTC)
        fx.load(older, now=now)
        fx.load(store, now=now)

        assert migration in older.migrate()

        kind = _rows(older, f"SELECT default_kind FROM system.columns WHERE database = '{{db}}' "
                            f"AND table = '{table}' AND name = 'TraceHash'")
        assert kind == [("MATERIALIZED",)]
        assert _rows(older, "SELECT countIf(TraceHash != cityHash64(TraceId)), count() > 3 "
                            f"FROM {{db}}.{table}") == [(0, 1)]
        filters = [ListFilter(status=("Failed",)), ListFilter(kind="agent"), ListFilter(q="order")]
        totals = [Repository(older).totals(f) for f in filters]
        assert any(t.executions and t.tokens for t in totals)
        assert totals == [Repository(store).totals(f) for f in filters]
        deadline = time.monotonic() + 60  # the migration's mutation writes the column into the parts
        while _rows(older, "SELECT count() FROM system.mutations WHERE database = '{db}' "
                           f"AND table = '{table}' AND NOT is_done") != [(0,)]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stored = _rows(older, "SELECT countIf(column = 'TraceHash'), uniqExact(name) FROM system.parts_columns "
                              f"WHERE database = '{{db}}' AND table = '{table}' AND active")
        assert stored[0][0] == stored[0][1] > 0  # in every active part
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {older.database} SYNC")
