"""Rebuild a table of an earlier generation (the Collector's span tables, execlog's rollups) in the current
layout, without losing a row.

A new ORDER BY, codec, engine or granularity cannot be altered in place, so the table is rebuilt: the
current DDL under a new name, an atomic ``EXCHANGE TABLES`` (writers and the materialized views, which
follow the name, move to the new table at once), then the old rows copied across. ``otel_traces`` feeds
materialized views, and a plain ``INSERT … SELECT`` into it would feed them a second time (rollup sums
doubled); the rollups' sums would count twice any row copied twice. So their rows go through a staging table
of the same layout and are moved in by partition (``MOVE PARTITION … TO TABLE`` fires no view). Each
partition leaves the old table only after it has arrived, so a rebuild interrupted half-way resumes where it
stopped the next time the store is opened. Settings the old table had beyond the new DDL (e.g. the
deduplication window of migration 004) are kept.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from execlog_otel.store import schema

log = logging.getLogger(__name__)

OLD = "{table}_previous"  # the earlier generation, while its rows are copied
STAGING = "{table}_staging"  # rows on their way into the new table, one partition at a time

# The columns every generation of the span table has (ALIAS columns are computed, not copied).
SPAN_COLUMNS = (
    "Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, "
    "ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, `Events.Timestamp`, "
    "`Events.Name`, `Events.Attributes`, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`")



def _one(store: Any, sql: str, **params: Any) -> Any:
    rows = store.pool.query(sql, parameters=params).result_rows
    return rows[0][0] if rows else None


def _exists(store: Any, table: str) -> bool:
    return bool(_one(store, "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                     db=store.database, t=table))


def is_current(store: Any, table: str) -> bool:
    """Whether ``table`` already has the layout of the exporter's current DDL."""
    if table == "otel_traces":
        key = _one(store, "SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                   db=store.database, t=table) or ""
        items = _one(store, "SELECT count() FROM system.columns WHERE database = {db:String} AND table = {t:String} "
                     "AND name = 'SpanAttributeItems'", db=store.database, t=table)
        return key.replace(" ", "").endswith("toDateTime(Timestamp),Timestamp") and bool(items)
    if table == "otel_traces_trace_id_ts":
        engine = _one(store, "SELECT engine FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                      db=store.database, t=table) or ""
        return "AggregatingMergeTree" in engine
    if table == "execlog_trace_rollups":  # current: the granularity its DDL file gives it
        granularity = _settings_of(_ddl(store, table)).get("index_granularity")
        return _settings(store, table).get("index_granularity") == granularity
    raise ValueError(f"no current layout known for {table}")


def _ddl(store: Any, table: str, name: str | None = None) -> str:
    """The current DDL of ``table`` (its file ``{table}_table.sql``), creating it as ``name``."""
    return schema.render("{" + table + "_table}", store.database, store.retention_days,
                         full_text_search=store.full_text_search, table_names={table: name or table})


def _create(store: Any, table: str, name: str) -> None:
    store.pool.command(_ddl(store, table, name))


def _settings(store: Any, table: str) -> dict[str, str]:
    text = _one(store, "SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                "AND name = {t:String}", db=store.database, t=table) or ""
    return _settings_of(text)


def _settings_of(ddl: str) -> dict[str, str]:
    m = re.search(r"\bSETTINGS\s+(.*)$", ddl, re.S)
    if not m:
        return {}
    return dict(re.findall(r"(\w+)\s*=\s*('[^']*'|[\w.]+)", m.group(1)))


def _keep_settings(store: Any, old: str, new: str) -> None:
    have = _settings(store, new)
    for key, value in _settings(store, old).items():
        if key not in have:
            store.pool.command(f"ALTER TABLE {store.table(new)} MODIFY SETTING {key} = {value}")


def rebuild(store: Any, table: str) -> bool:
    """Bring ``table`` to the current layout (or finish a rebuild that was interrupted). True if it did."""
    old = OLD.format(table=table)
    if not is_current(store, table):
        if _exists(store, old):
            raise RuntimeError(f"cannot rebuild {store.table(table)}: {store.table(old)} exists from an earlier "
                               "attempt while the table is still in the old layout; rename or drop one of them")
        log.info("rebuilding %s in its current layout", store.table(table))
        _create(store, table, old)
        _keep_settings(store, table, old)
        # The new, empty table takes the name (and so the writers and the views); `old` holds the rows.
        store.pool.command(f"EXCHANGE TABLES {store.table(table)} AND {store.table(old)}")
    elif not _exists(store, old):
        return False
    if table == "otel_traces":
        _move_rows(store, table, old, SPAN_COLUMNS)
    elif table == "execlog_trace_rollups":
        _move_rows(store, table, old, _columns(store, old))
    else:
        # Aggregated per trace id: inserting the old ranges merges with what the view wrote meanwhile.
        store.pool.command(f"INSERT INTO {store.table(table)} (TraceId, Start, End) SELECT TraceId, min(Start), "
                             f"max(End) FROM {store.table(old)} GROUP BY TraceId")
    store.pool.command(f"DROP TABLE {store.table(old)}")
    return True


def _partitions(store: Any, table: str) -> list[str]:
    ids = [r[0] for r in store.pool.query(
        f"SELECT DISTINCT _partition_id FROM {store.table(table)} ORDER BY 1").result_rows]
    for partition in ids:  # ids ClickHouse derived from the partition key; ALTER cannot bind them
        if not re.fullmatch(r"[0-9A-Za-z_-]+", partition):
            raise RuntimeError(f"{store.table(table)}: unexpected partition id {partition!r}")
    return ids


def _columns(store: Any, table: str) -> str:
    """The stored columns of ``table`` (every one the rollups' current layout has too) but those computed at
    insert (MATERIALIZED: they cannot be inserted, the new table computes them)."""
    names = [r[0] for r in store.pool.query(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} "
        "AND default_kind NOT IN ('ALIAS', 'EPHEMERAL', 'MATERIALIZED') ORDER BY position",
        parameters={"db": store.database, "t": table}).result_rows]
    for name in names:  # names from the engine's catalogue; an INSERT's column list cannot be bound
        schema.check_identifier(name, "column name")
    return ", ".join(names)


def _move_rows(store: Any, table: str, old: str, columns: str) -> None:
    """Old rows (``columns``) into ``table`` by partition: copy to staging, drop from old, move in. At every
    point each row is in exactly one committed place (old, or staging once old dropped it, or the table), so
    an interrupted run is finished by the next one."""
    staging = STAGING.format(table=table)
    if _exists(store, staging):
        still_old = set(_partitions(store, old))
        for partition in _partitions(store, staging):
            if partition in still_old:  # copied, not committed: the rows are still in the old table
                store.pool.command(f"ALTER TABLE {store.table(staging)} DROP PARTITION ID '{partition}'")
            else:
                store.pool.command(f"ALTER TABLE {store.table(staging)} MOVE PARTITION ID '{partition}' "
                                     f"TO TABLE {store.table(table)}")
    else:
        _create(store, table, staging)
    for partition in _partitions(store, old):
        before = _one(store, f"SELECT count() FROM {store.table(old)} WHERE _partition_id = {{p:String}}",
                      p=partition)
        store.pool.command(f"INSERT INTO {store.table(staging)} ({columns}) SELECT {columns} "
                             f"FROM {store.table(old)} WHERE _partition_id = {{p:String}}",
                             parameters={"p": partition},
                             # Rows as they are, so the count below checks the copy (an aggregating table
                             # would merge rows of one key on insert).
                             settings={"optimize_on_insert": 0})
        copied = _one(store, f"SELECT count() FROM {store.table(staging)}")
        if copied != before:
            raise RuntimeError(f"rebuilding {store.table(table)}: partition {partition} copied {copied} of "
                               f"{before} rows; the old rows stay in {store.table(old)}")
        store.pool.command(f"ALTER TABLE {store.table(old)} DROP PARTITION ID '{partition}'")
        store.pool.command(f"ALTER TABLE {store.table(staging)} MOVE PARTITION ID '{partition}' "
                             f"TO TABLE {store.table(table)}")
    store.pool.command(f"DROP TABLE {store.table(staging)}")
