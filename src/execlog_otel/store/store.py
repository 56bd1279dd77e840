"""A store: a pool of clickhouse-connect clients and the database holding the tables."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pyarrow as pa
from clickhouse_connect.driver.client import Client

from execlog_otel.store import rebuild, schema, span_arrow
from execlog_otel.store.client import connect
from execlog_otel.store.pool import ClientPool
from execlog_otel.store.rows import COLUMNS, gc_paused

log = logging.getLogger(__name__)

SPAN_TABLE = "otel_traces"
# execlog_meta: the fingerprint of the prices the stored costs were last priced with (pricing.install).
COSTS_PRICED_WITH = "costs_priced_with"


class Store:
    """Reads and writes go through ``pool`` (query, command, insert); ``database`` names where the tables live."""

    def __init__(self, pool: ClientPool | Client, database: str = "otel", retention_days: int = 30,
                 prices_file: str = ""):
        self.pool = pool if isinstance(pool, ClientPool) else ClientPool.of(pool)
        # Model prices that replace or add to the shipped ones, loaded by migrate() (pricing.py).
        self.prices_file = prices_file
        self.database = schema.check_identifier(database, "database name")
        self.retention_days = retention_days
        self._migrate_lock = threading.Lock()
        self._full_text_search: bool | None = None
        self._sharded: bool | None = None

    @classmethod
    def open(cls, url: str, database: str = "otel", retention_days: int = 30, migrate: bool = True,
             readonly: bool = False, settings: dict[str, Any] | None = None, pool_size: int = 1,
             prices_file: str = "") -> Store:
        """Connect (``pool_size`` clients at most, opened as concurrent calls need them) and migrate."""
        pool = ClientPool(lambda: connect(url, database=None, settings=settings, readonly=readonly), pool_size)
        store = cls(pool, database, retention_days, prices_file)
        if migrate:
            store.migrate()
        return store

    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    # --- schema ------------------------------------------------------------
    @property
    def full_text_search(self) -> bool:
        """Whether the engine has text indexes (new tables get them, as the Collector's exporter decides)."""
        if self._full_text_search is None:
            version = self.pool.query("SELECT version()").result_rows[0][0]
            self._full_text_search = schema.supports_full_text_search(str(version))
        return self._full_text_search

    def applied_versions(self) -> set[int]:
        exists = self.pool.query(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'execlog_schema_migrations'",
            parameters={"db": self.database}).result_rows[0][0]
        if not exists:
            return set()
        rows = self.pool.query(f"SELECT DISTINCT Version FROM {self.table('execlog_schema_migrations')}").result_rows
        return {r[0] for r in rows}

    def _rederive(self, migration: str) -> None:
        """Derive again, from the spans, the tables a migration changed the rules of (schema.REDERIVE)."""
        spans = None
        for target, fragment in schema.REDERIVE.get(migration, ()):
            if not self._table_exists(target):
                continue
            spans = self._span_count() if spans is None else spans
            self.pool.command(f"TRUNCATE TABLE {self.table(target)}")
            if spans:
                log.info("deriving %s again from %d spans", target, spans)
                self._derive(target, fragment)

    def _derive(self, target: str, fragment: str) -> None:
        """Insert into ``target`` what its view's SELECT gives over the stored rows, column by name as the view
        does (the table may have more columns, which other views fill)."""
        select = schema.select_fragment(fragment, self.database)
        names = ", ".join(f"`{row[0]}`" for row in self.pool.query(f"DESCRIBE ({select})").result_rows)
        self.pool.command(f"INSERT INTO {self.table(target)} ({names}) {select}")

    def migrate(self, up_to: int | None = None) -> list[str]:
        """Apply the migrations this store lacks (up to ``up_to``), then the retention and the prices."""
        with self._migrate_lock:
            self.pool.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            applied = self.applied_versions()
            missing = [m for m in schema.migrations() if m.version not in applied
                       and (up_to is None or m.version <= up_to)]
            if missing and self._table_engine(SPAN_TABLE) == "Distributed":
                # A sharded cluster's DDL is ON CLUSTER, on local tables of every shard: not ours to run.
                raise schema.SchemaError(
                    f"{self.database} is a sharded cluster layout (Distributed tables) lacking migration(s) "
                    f"{', '.join(m.name for m in missing)}: apply them with `execlog schema --cluster NAME "
                    f"--shards --since {max(applied, default=-1)} | clickhouse-client --multiquery`")
            done = []
            for m in schema.migrations():
                if up_to is not None and m.version > up_to:
                    break
                if m.version in applied:
                    continue
                self._apply(m)
                done.append(m.name)
            self.apply_retention()
            if done and schema.ROLLUP_COSTS_VERSION in self.applied_versions():
                # The rollups' cost sums of the rows stored before 037, or of a rollup derived again.
                self.pool.command(schema.rollup_costs_statement(self.database))
            if self._table_exists("execlog_prices"):
                from execlog_otel import pricing

                pricing.install(self, self.prices_file)
            return done

    def _apply(self, m: schema.Migration) -> None:
        """Run one migration's statements, the rebuilds, re-derivations and back-fill it calls for, and record it."""
        # Back-fill only a derived table this migration creates: one made earlier (e.g. from
        # `execlog schema` output) is already fed by its view, and filling it again would
        # double-count its sums.
        had_spans = 0
        if m.name in schema.BACKFILL and not self._table_exists(schema.BACKFILL[m.name][0]):
            had_spans = self._span_count()
        for stmt in schema.statements(schema.render(m.sql, self.database, self.retention_days,
                                                    full_text_search=self.full_text_search)):
            self.pool.command(stmt)
        for table in schema.REBUILD.get(m.name, ()):
            rebuild.rebuild(self, table)
        self._rederive(m.name)
        if had_spans:
            target, fragment = schema.BACKFILL[m.name]
            log.info("back-filling %s from %d spans", target, had_spans)
            self._derive(target, fragment)
        self.pool.command(
            f"INSERT INTO {self.table('execlog_schema_migrations')} (Version, Name) VALUES "
            "({v:UInt32}, {n:String})", parameters={"v": m.version, "n": m.name})

    def price_stored_costs(self, priced_with: str, prices_changed: bool) -> None:
        """Price every stored LLM span and usage sum again with the prices in ``execlog_prices`` (the facts that
        price arriving spans), waiting until done, unless the store records that its costs were priced with
        ``priced_with`` (a fingerprint of those prices) and they did not just change. The record is written
        after the re-pricing, so an interrupted one runs again at the next open; a store upgraded to stored
        costs (036) has none, so its earlier rows are priced once."""
        applied = self.applied_versions()
        if schema.STORED_COSTS_VERSION not in applied:
            return
        if self.sharded:
            # Mutations run on the shards' local tables, whose names this client does not know.
            if prices_changed:
                log.warning("the prices changed: price the stored costs again with the statements of "
                            "`execlog schema --cluster NAME --shards --reprice`")
            return
        if not prices_changed and self.meta(COSTS_PRICED_WITH) == priced_with:
            return
        for statement in schema.reprice_statements(self.database, rollups=schema.ROLLUP_COSTS_VERSION in applied):
            self.pool.command(statement, settings={"mutations_sync": 2})
        self.refresh_summaries(schema.COST_SUMMARY_VIEWS)  # their costs too
        self.set_meta(COSTS_PRICED_WITH, priced_with)

    def refresh_summaries(self, views: tuple[str, ...] = schema.SUMMARY_VIEWS) -> None:
        """Recompute the Insights' summaries (``views``: their refreshable views, which run hourly by themselves)
        now and wait until done: the costs' after the stored costs are priced again, all for a store just filled
        (the benchmark's)."""
        for view in views:
            if self._table_exists(view):
                self.pool.command(f"SYSTEM REFRESH VIEW {self.table(view)}")
                self.pool.command(f"SYSTEM WAIT VIEW {self.table(view)}")

    def meta(self, key: str) -> str | None:
        """The store's setting ``key`` (execlog_meta), None when never set."""
        rows = self.pool.query(f"SELECT argMax(Value, UpdatedAt) FROM {self.table('execlog_meta')} "
                               "WHERE Key = {k:String} HAVING count() > 0", parameters={"k": key}).result_rows
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.pool.command(f"INSERT INTO {self.table('execlog_meta')} (Key, Value) VALUES ({{k:String}}, {{v:String}})",
                          parameters={"k": key, "v": value})

    def _table_exists(self, table: str) -> bool:
        return bool(self.pool.query(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            parameters={"db": self.database, "t": table}).result_rows[0][0])

    @property
    def sharded(self) -> bool:
        """Whether the spans are a Distributed table (``execlog schema --cluster NAME --shards``)."""
        if self._sharded is None:
            try:
                self._sharded = self._table_engine(SPAN_TABLE) == "Distributed"
            except Exception:  # noqa: BLE001 - unreachable now: asked again next time, the query reports it
                return False
        return self._sharded

    def _table_engine(self, table: str) -> str:
        rows = self.pool.query(
            "SELECT engine FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            parameters={"db": self.database, "t": table}).result_rows
        return str(rows[0][0]) if rows else ""

    def _span_count(self) -> int:
        if not self._table_exists(SPAN_TABLE):
            return 0
        return int(self.pool.query(f"SELECT count() FROM {self.table(SPAN_TABLE)}").result_rows[0][0])

    def table_ttl(self, table: str) -> str:
        rows = self.pool.query(
            "SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = {t:String}",
            parameters={"db": self.database, "t": table}).result_rows
        if not rows:
            return ""
        text = rows[0][0]
        start = text.find(" TTL ")
        if start < 0:
            return ""
        end = text.find(" SETTINGS ", start)
        return text[start + 5:end if end > 0 else None].strip()

    def apply_retention(self) -> None:
        """Make every table's TTL match ``retention_days`` (ALTER … MODIFY TTL when it differs)."""
        for table, column in schema.TTL_TABLES.items():
            wanted = f"{column} + toIntervalDay({self.retention_days})"
            current = self.table_ttl(table)
            if current and current != wanted:
                log.info("retention of %s: %s -> %s", table, current, wanted)
                self.pool.command(f"ALTER TABLE {self.table(table)} MODIFY TTL {wanted}")
        self.set_meta("retention_days", str(self.retention_days))

    # --- writes --------------------------------------------------------------
    def insert_span_columns(self, columns: list[list[Any]] | pa.Table, settings: dict[str, Any] | None = None) -> int:
        """Insert spans given column-oriented, in ``rows.COLUMNS`` order (or as an Arrow table of
        ``span_arrow.SCHEMA``), as an Arrow stream that ClickHouse parses (``span_arrow``: a fraction of the
        Python time of a clickhouse-connect insert)."""
        if isinstance(columns, pa.Table):
            n, data = columns.num_rows, span_arrow.join([columns])
        else:
            n = len(columns[0]) if columns else 0
            data = span_arrow.encode(columns) if n else b""
        if n:
            self.pool.raw_insert(self.table(SPAN_TABLE), COLUMNS, data, span_arrow.FORMAT, settings=settings)
        return n

    def insert_columns(self, table: str, names: list[str], columns: list[list[Any]] | pa.Table,
                       settings: dict[str, Any] | None = None) -> int:
        """Insert rows given column-oriented into ``table`` of this database (any signal's table)."""
        if table == SPAN_TABLE and names == COLUMNS:
            return self.insert_span_columns(columns, settings)
        n = len(columns[0]) if columns else 0
        if n:
            with gc_paused():
                self.pool.insert(self.table(schema.check_identifier(table, "table name")), columns,
                                   column_names=names, column_oriented=True, settings=settings)
        return n

    def close(self) -> None:
        try:
            self.pool.close()
        except Exception:  # noqa: BLE001 - closing must never raise
            pass
