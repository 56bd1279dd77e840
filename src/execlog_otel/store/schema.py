"""The schema: SQL files loaded, parameterised and applied in one place.

Migrations are the numbered files in ``sql/`` (``NNN_name.sql``). Each is
idempotent DDL; the versions applied are recorded in
``execlog_schema_migrations``, so a newer release opening an older store
applies only what is missing, and a migration that adds a derived table
back-fills it from ``otel_traces`` without touching the spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from execlog_otel.config import MAX_RETENTION_DAYS
from execlog_otel.store import sqlfiles
from execlog_otel.store.sqlfiles import SQL_PACKAGE

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Tables whose TTL follows the retention setting, with the column it counts from.
TTL_TABLES: dict[str, str] = {
    "otel_traces": "toDateTime(Timestamp)",
    "otel_traces_trace_id_ts": "toDateTime(Start)",
    "execlog_executions": "toDateTime(Start)",
    "execlog_trace_rollups": "toDateTime(Start)",
    "otel_logs": "toDateTime(Timestamp)",
    "otel_metrics_gauge": "toDateTime(TimeUnix)",
    "otel_metrics_sum": "toDateTime(TimeUnix)",
    "otel_metrics_histogram": "toDateTime(TimeUnix)",
    "otel_metrics_exponential_histogram": "toDateTime(TimeUnix)",
    "otel_metrics_summary": "toDateTime(TimeUnix)",
    "execlog_llm_usage": "toDateTime(Start)",
    "execlog_attempts": "toDateTime(Start)",
    "execlog_trace_usage": "toDateTime(Start)",
    "execlog_steps": "toDateTime(Start)",
    "execlog_retry_audit": "toDateTime(Time)",
    "execlog_span_facts": "toDateTime(Start)",
    "execlog_usage_hourly": "Hour",
    "execlog_trace_tools": "toDateTime(Start)",
}

# Tables whose layout follows the Collector exporter's current DDL: a migration named here rebuilds
# them (new table, copy, swap; see ``rebuild``) when a store holds an earlier generation.
REBUILD: dict[str, tuple[str, ...]] = {
    "007_collector_current_schema": ("otel_traces", "otel_traces_trace_id_ts"),
    # The rollups in granules of 256 rows (execlog_trace_rollups_table.sql), for the listing's reads by key.
    "041_rollups_small_granules": ("execlog_trace_rollups",),
}

# The tables a rebuild can create under another name (each DDL in one file: ``{table}_table.sql``).
REBUILT_TABLES = ("otel_traces", "otel_traces_trace_id_ts", "execlog_trace_rollups")

# The exporter creates text (full-text) indexes from this ClickHouse version on, bloom filters before.
FULL_TEXT_SEARCH_SINCE = (26, 2)

# The durations sketch of Insights' step charts (042_step_days.sql): quantilesDD's relative accuracy (0.5 %),
# then the levels read (p50, p95).
STEP_DURATION_QUANTILES = "0.005, 0.5, 0.95"

# The refreshable views that recompute the summaries of Insights (042, 043, 044) and of the listing's totals (049)
# (not on a sharded cluster).
SUMMARY_VIEWS = ("execlog_step_days_mv", "execlog_named_usage_hourly_mv", "execlog_tool_days_mv",
                 "execlog_execution_totals_mv")
# Those whose sums hold costs, recomputed when the stored costs are priced again.
COST_SUMMARY_VIEWS = ("execlog_named_usage_hourly_mv", "execlog_execution_totals_mv")

# The listing's search index on execlog_executions (migration 024), by whether the engine has text indexes.
SEARCH_INDEX_TEXT = "text(tokenizer = ngrams(3))"
SEARCH_INDEX_BLOOM = "ngrambf_v1(3, 65536, 3, 0)"

# Derived tables and the SELECT (file) that feeds them, for back-filling.
BACKFILL: dict[str, tuple[str, str]] = {
    # migration name -> (target table, select fragment)
    "002_executions": ("execlog_executions", "executions_select"),
    "003_trace_rollups": ("execlog_trace_rollups", "rollups_select"),
    "010_llm_usage": ("execlog_llm_usage", "llm_usage_select"),
    "011_attempts": ("execlog_attempts", "attempts_select"),
    # Fed from execlog_llm_usage (filled by 010 first), not from the spans.
    "013_trace_usage": ("execlog_trace_usage", "trace_usage_select"),
    "014_steps": ("execlog_steps", "steps_select"),
    "030_span_facts": ("execlog_span_facts", "span_facts_select"),
    "035_usage_hourly": ("execlog_usage_hourly", "usage_hourly_select"),
    # Fed from execlog_trace_rollups, not from the spans.
    "044_tool_days": ("execlog_trace_tools", "trace_tools_select"),
}

# Migrations that change how derived tables are derived: after them, each table named is emptied and
# derived again from otel_traces by its SELECT (migrations run when a store is opened, before it serves).
REDERIVE: dict[str, tuple[tuple[str, str], ...]] = {
    # The Project column (facts/project.sql) of the executions and attempts made before it.
    "016_projects": (("execlog_executions", "executions_select"), ("execlog_attempts", "attempts_select")),
    "020_client_dialects": (("execlog_executions", "executions_select"), ("execlog_attempts", "attempts_select"),
                            ("execlog_trace_rollups", "rollups_select")),
    # Insights' step rows without the HTTP requests that carry model calls.
    "021_steps_transport": (("execlog_steps", "steps_select"),),
}



# The SELECTs that feed the derived tables and views (sql/<name>.sql, filled in, then their own placeholders).
SELECTS = ("executions_select", "rollups_select", "llm_usage_rows", "llm_usage_select", "attempts_select",
           "llm_costs_select", "trace_usage_select", "trace_costs_select", "steps_select", "span_facts_select",
           "usage_hourly_select", "rollup_costs_select", "trace_tools_select")


class SchemaError(ValueError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def check_identifier(name: str, what: str = "name") -> str:
    """Identifiers cannot be bound as parameters in DDL, so they are validated instead."""
    if not _IDENT.match(name or ""):
        raise SchemaError(f"invalid {what} {name!r}: use letters, digits and underscores")
    return name


def migrations() -> list[Migration]:
    out = []
    for entry in resources.files(SQL_PACKAGE).iterdir():
        m = re.match(r"^(\d{3})_([a-z0-9_]+)\.sql$", entry.name)
        if m:
            out.append(Migration(int(m.group(1)), entry.name[:-4], entry.read_text(encoding="utf-8")))
    return sorted(out, key=lambda m: m.version)


# Where a replicated table keeps its replicas' state in Keeper: one replica group per shard.
REPLICA_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


def _engines(cluster: str | None, path: str = REPLICA_PATH) -> dict[str, str]:
    if not cluster:
        return {
            "engine_mergetree": "MergeTree",
            "engine_replacing_plain": "ReplacingMergeTree",
            "engine_replacing_version": "ReplacingMergeTree(Version)",
            "engine_replacing_applied": "ReplacingMergeTree(AppliedAt)",
            "engine_replacing_updated": "ReplacingMergeTree(UpdatedAt)",
            "engine_aggregating": "AggregatingMergeTree",
        }
    return {
        "engine_mergetree": f"ReplicatedMergeTree({path})",
        "engine_replacing_plain": f"ReplicatedReplacingMergeTree({path})",
        "engine_replacing_version": f"ReplicatedReplacingMergeTree({path}, Version)",
        "engine_replacing_applied": f"ReplicatedReplacingMergeTree({path}, AppliedAt)",
        "engine_replacing_updated": f"ReplicatedReplacingMergeTree({path}, UpdatedAt)",
        "engine_aggregating": f"ReplicatedAggregatingMergeTree({path})",
    }


def supports_full_text_search(version: str) -> bool:
    """Whether a ClickHouse version (``SELECT version()``) has text indexes, as the exporter decides it."""
    parts = re.findall(r"\d+", version or "")[:2]
    return len(parts) == 2 and (int(parts[0]), int(parts[1])) >= FULL_TEXT_SEARCH_SINCE


def _fragment(name: str) -> sqlfiles.Fragment:
    return sqlfiles.Fragment(sqlfiles.strip_comments(sqlfiles.read(name)).strip())


def render(sql: str, database: str, retention_days: int = 30, cluster: str | None = None,
           full_text_search: bool = True, table_names: dict[str, str] | None = None,
           replica_path: str = REPLICA_PATH, prices_database: str | None = None) -> str:
    """Fill the placeholders of a schema file. Only known names are substituted.

    ``full_text_search``: text indexes (else bloom filters), as the Collector's exporter picks them by
    ClickHouse version. ``table_names`` renames the tables of the DDL fragments (otel_traces ->
    otel_traces_previous while it is rebuilt). ``prices_database``: where execlog_prices is (default
    ``database``; the sharded layout's local tables are priced from the main database's)."""
    check_identifier(database, "database name")
    if cluster:
        check_identifier(cluster, "cluster name")
    if not isinstance(retention_days, int) or not 1 <= retention_days <= MAX_RETENTION_DAYS:
        # Past the bound the TTL passes the end of DateTime, wraps around and deletes every row at once.
        raise SchemaError(f"retention must be a whole number of days from 1 to {MAX_RETENTION_DAYS:,}, got "
                          f"{retention_days!r} (a longer one passes the end of ClickHouse's DateTime, 2106-02-07, "
                          "and deletes every span at once)")
    values: dict[str, Any] = {
        "database": database,
        "prices_database": check_identifier(prices_database or database, "database name"),
        "retention_days": retention_days,
        "on_cluster": f"ON CLUSTER {cluster}" if cluster else "",
        **_engines(cluster, replica_path),
        # The SELECTs that feed the derived tables (filled in, then their own placeholders).
        **{name: sqlfiles.Fragment(sqlfiles.strip_comments(sqlfiles.read(name)).strip()) for name in SELECTS},
        # The tables a rebuild can make again (the Collector's span tables, the rollups), each in its file.
        **{f"{table}_table": _fragment(f"{table}_table") for table in REBUILT_TABLES},
        "otel_traces_indexes": _fragment("otel_traces_indexes_text" if full_text_search
                                         else "otel_traces_indexes_bloom"),
        "otel_logs_indexes": _fragment("otel_logs_indexes_text" if full_text_search else "otel_logs_indexes_bloom"),
        # The listing's search index (024): a text index of ngrams, else an ngram bloom filter.
        "search_index_type": SEARCH_INDEX_TEXT if full_text_search else SEARCH_INDEX_BLOOM,
        "step_duration_quantiles": STEP_DURATION_QUANTILES,
        # Insights' closed-day step summaries are recomputed by one node's refreshable view; on a cluster every
        # replica would run it, so there the table stays empty and the charts read the steps.
        "step_days_view": "" if cluster else _fragment("step_days_view"),
        "named_usage_view": "" if cluster else _fragment("named_usage_view"),
        "tool_days_view": "" if cluster else _fragment("tool_days_view"),
        "execution_totals_view": "" if cluster else _fragment("execution_totals_view"),
    }
    for table in REBUILT_TABLES:
        values[f"table_{table}"] = check_identifier((table_names or {}).get(table, table), "table name")
    return sqlfiles.render(sql, values)


def statements(sql: str) -> list[str]:
    """Split a rendered file into statements (no statement contains a ';' literal)."""
    return [s.strip() for s in sqlfiles.strip_comments(sql).split(";") if s.strip()]


# The migration from which LLM spans carry their cost (the rows stored before it are priced once, on upgrade).
STORED_COSTS_VERSION = 36
# The migration from which the rollups carry each attempt's cost (rollup_costs_reconcile.sql sums in the rest).
ROLLUP_COSTS_VERSION = 37
# The tables whose stored costs pricing.install prices again when the prices change (reprice.sql), and whether
# their rows are single spans (token kinds derived, not stored: reprice_span_token_kinds.sql).
REPRICED = (("execlog_llm_usage", True), ("execlog_trace_usage", False), ("execlog_usage_hourly", False))


def reprice_statements(database: str, cluster: str | None = None, prices_database: str | None = None,
                       rollups: bool = True) -> list[str]:
    """The mutations that price every stored LLM span and usage sum of ``database`` again with the prices in
    ``prices_database``'s execlog_prices (the facts that price arriving spans), then (``rollups``: a store
    from migration 037 on) the rollups' cost sums brought to theirs."""
    span_kinds = sqlfiles.Fragment(sqlfiles.statement("reprice_span_token_kinds"))
    return [*(render(sqlfiles.statement("reprice", table=table, span_token_kinds=span_kinds if spans else ""),
                     database, cluster=cluster, prices_database=prices_database)
              for table, spans in REPRICED),
            *([rollup_costs_statement(database)] if rollups else [])]


def rollup_costs_statement(database: str) -> str:
    """The INSERT that brings the rollups' cost sums to the priced usage rows' (rollup_costs_reconcile.sql)."""
    return render(sqlfiles.statement("rollup_costs_reconcile"), database)


def select_fragment(name: str, database: str) -> str:
    return render("{" + name + "}", database)


def ddl(database: str, retention_days: int = 30, cluster: str | None = None, full_text_search: bool = True,
        prices_file: str = "") -> str:
    """All DDL as one script, for users who manage the schema themselves (``full_text_search=False`` for a
    ClickHouse older than 26.2: bloom filters instead of text indexes, as the exporter does), ending with
    the prices in force."""
    parts = [f"CREATE DATABASE IF NOT EXISTS {check_identifier(database, 'database name')}"
             f"{' ON CLUSTER ' + cluster if cluster else ''};\n"]
    for m in migrations():
        parts.append(f"-- migration {m.name}\n")
        for stmt in statements(render(m.sql, database, retention_days, cluster, full_text_search)):
            parts.append(stmt + ";\n")
    # Record the migrations, so execlog opening this database later applies only newer ones.
    values = ", ".join(f"({m.version}, '{m.name}')" for m in migrations())
    parts.append(f"INSERT INTO {database}.execlog_schema_migrations (Version, Name) VALUES {values};\n")
    # The shipped prices (and EXECLOG_PRICES_FILE's), so SQL and Grafana price tokens from the start.
    from execlog_otel import pricing

    parts.append(pricing.insert_statement(database, prices_file or None) + ";\n")
    return "\n".join(parts)
