"""The sharded cluster layout: local Replicated tables on every shard, Distributed tables over them.

``execlog schema --cluster NAME --shards`` prints it. Every migration is rendered twice, and each of its
statements is taken from one rendering:

- into the **local database** (``<database>_local`` unless named): the span tables, the derived tables
  and their materialized views, ``Replicated*`` engines with one replica group per shard. An insert
  reaches one shard's local ``otel_traces`` and that shard's views fill its derived tables, so the views
  work per shard;
- into the **database** (``otel``): a ``Distributed`` table of the same name over each local table (what
  ingest writes and the viewer, ``execlog serve --clickhouse`` and the Collector read and write, so their
  table names do not change), the plain views, and the small tables every node needs whole (schema
  migrations, meta, prices), replicated across all nodes instead of sharded.

Spans are placed by ``cityHash64`` of their execution id (``facts/span_execution_id.sql``): the
execution's first attempt's trace id, which later attempts name on their root (``execlog.retry_of``) and
the SDK writes on each of their spans (``execlog.execution.id``). So every span and every attempt of an
execution is on one shard, and the derived tables read with ``FINAL`` or merged per key are correct
shard by shard. Everything is ``ON CLUSTER``.
"""

from __future__ import annotations

import re

from execlog_otel.store import schema, sqlfiles

# Tables every node holds whole (small, read by every query): replicated across all nodes, not sharded.
GLOBAL_TABLES = ("execlog_schema_migrations", "execlog_meta", "execlog_prices")
# One replica group for all nodes: no {shard} in the Keeper path; replica names must be unique over the
# cluster, so the shard is part of them.
GLOBAL_REPLICA_PATH = "'/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}'"

# The sharding key of the tables execlog (or the Collector) writes; the derived tables have none, because
# only their shard's materialized views write them.
SPAN_SHARD_KEY = "cityHash64({fact.span_execution_id})"
SHARD_KEYS = {
    "otel_traces": SPAN_SHARD_KEY,
    "otel_logs": "cityHash64(TraceId)",
    "otel_metrics_gauge": "rand()",
    "otel_metrics_sum": "rand()",
    "otel_metrics_histogram": "rand()",
    "otel_metrics_exponential_histogram": "rand()",
    "otel_metrics_summary": "rand()",
}

_CREATE_TABLE = re.compile(r"^CREATE TABLE (?:IF NOT EXISTS )?[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\b", re.I)
_CREATE_VIEW = re.compile(r"^CREATE (?:OR REPLACE )?VIEW (?:IF NOT EXISTS )?[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\b", re.I)
_TARGET = re.compile(
    r"^(?:CREATE (?:OR REPLACE )?(?:MATERIALIZED )?(?:TABLE|VIEW) (?:IF NOT EXISTS )?|ALTER TABLE |"
    r"INSERT INTO |DROP (?:TABLE|VIEW) (?:IF EXISTS )?|OPTIMIZE TABLE |TRUNCATE TABLE (?:IF EXISTS )?)"
    r"[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\b", re.I)
# ALTERs a Distributed table must repeat to keep the local table's columns (it has no indexes, TTL, settings).
_COLUMN_ALTER = re.compile(r"^\s*(?:ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", re.I)


def local_database_for(database: str) -> str:
    return schema.check_identifier(f"{database}_local", "local database name")


def shard_key(database: str) -> str:
    """The span sharding expression, as the DDL gives it to ``Distributed`` (over an otel_traces row)."""
    return sqlfiles.render(SPAN_SHARD_KEY, {"database": database})


def _target(statement: str) -> str:
    m = _TARGET.match(statement)
    return m.group(1) if m else ""


def _column_alters(statement: str) -> str | None:
    """The column commands of an ALTER TABLE statement (to repeat on the Distributed table), or None."""
    m = re.match(r"^ALTER TABLE \S+\s+(?:ON CLUSTER \S+\s+)?(.*)$", statement, re.I | re.S)
    if not m:
        return None
    commands = re.split(r",\s*(?=(?:ADD|DROP|MODIFY|RENAME|COMMENT|MATERIALIZE|CLEAR)\b)", m.group(1))
    wanted = [c.strip() for c in commands if _COLUMN_ALTER.match(c)]
    return ", ".join(wanted) if wanted else None


def _distributed(database: str, local: str, cluster: str, table: str) -> str:
    key = SHARD_KEYS.get(table)
    args = f"{cluster}, {local}, {table}" + (f", {sqlfiles.render(key, {})}" if key else "")
    return (f"CREATE TABLE IF NOT EXISTS {database}.{table} ON CLUSTER {cluster} AS {local}.{table}\n"
            f"ENGINE = Distributed({args})")


def statements(database: str, cluster: str, local_database: str | None = None, retention_days: int = 30,
               full_text_search: bool = True, since: int = -1) -> list[str]:
    """The sharded layout's DDL statements, migration by migration (those after version ``since``; -1: all)."""
    schema.check_identifier(database, "database name")
    schema.check_identifier(cluster, "cluster name")
    local = schema.check_identifier(local_database or local_database_for(database), "local database name")
    if local == database:
        raise schema.SchemaError("the local database must differ from the database holding the Distributed tables")
    out: list[str] = []
    if since < 0:
        out += [f"CREATE DATABASE IF NOT EXISTS {local} ON CLUSTER {cluster}",
                f"CREATE DATABASE IF NOT EXISTS {database} ON CLUSTER {cluster}"]
    sharded: set[str] = set()
    for m in schema.migrations():
        in_local = schema.statements(schema.render(m.sql, local, retention_days, cluster, full_text_search,
                                                   prices_database=database))
        in_main = schema.statements(schema.render(m.sql, database, retention_days, cluster, full_text_search,
                                                  replica_path=GLOBAL_REPLICA_PATH))
        for local_stmt, main_stmt in zip(in_local, in_main, strict=True):
            table = _target(local_stmt)
            if table in GLOBAL_TABLES or _CREATE_VIEW.match(local_stmt):
                chosen = [main_stmt]  # whole on every node / a view over the Distributed tables
            else:
                chosen = [local_stmt]
                created = _CREATE_TABLE.match(local_stmt)
                if created:
                    sharded.add(created.group(1))
                    chosen.append(_distributed(database, local, cluster, created.group(1)))
                elif table in sharded and local_stmt.upper().startswith("ALTER TABLE"):
                    columns = _column_alters(local_stmt)
                    if columns:
                        chosen.append(f"ALTER TABLE {database}.{table} ON CLUSTER {cluster} {columns}")
            if m.version > since:
                out += chosen
    return out


def ddl(database: str, cluster: str, local_database: str | None = None, retention_days: int = 30,
        full_text_search: bool = True, prices_file: str = "", since: int = -1) -> str:
    """The sharded layout as one script (``since``: only the migrations after that version, for an upgrade),
    ending with the migrations recorded and the prices in force."""
    parts = []
    done = [m for m in schema.migrations() if m.version > since]
    for stmt in statements(database, cluster, local_database, retention_days, full_text_search, since):
        parts.append(stmt + ";\n")
    if done:
        values = ", ".join(f"({m.version}, '{m.name}')" for m in done)
        parts.append(f"INSERT INTO {database}.execlog_schema_migrations (Version, Name) VALUES {values};\n")
    if since < 0:  # an upgrade keeps the prices in place (execlog serve installs the ones in force)
        from execlog_otel import pricing

        parts.append(pricing.insert_statement(database, prices_file or None) + ";\n")
    elif since < schema.STORED_COSTS_VERSION:  # the costs stored from now on: the rows stored before are priced once
        parts += [stmt + ";\n" for stmt in reprice_statements(database, cluster, local_database)]
    elif since < schema.ROLLUP_COSTS_VERSION:  # the rollups' cost sums of the rows stored before 037
        parts.append(_on_every_shard(schema.rollup_costs_statement(_local(database, local_database))) + ";\n")
    return "\n".join(parts)


def _local(database: str, local_database: str | None) -> str:
    return schema.check_identifier(local_database or local_database_for(database), "local database name")


def _on_every_shard(insert: str) -> str:
    # An INSERT has no ON CLUSTER: each shard's local tables are summed on that shard.
    return "-- on one replica of every shard:\n" + insert


def reprice_statements(database: str, cluster: str, local_database: str | None = None) -> list[str]:
    """The mutations that price the shards' stored costs again with the prices in force (after the prices
    changed: ``execlog schema --cluster NAME --shards --reprice``)."""
    local = _local(database, local_database)
    return [*schema.reprice_statements(local, cluster, prices_database=database, rollups=False),
            _on_every_shard(schema.rollup_costs_statement(local))]
