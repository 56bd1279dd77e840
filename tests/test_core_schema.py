"""Schema: exact otel_traces contract, derived tables, migrations, retention/TTL, printed DDL."""

from __future__ import annotations

import re
import time
import uuid

from click.testing import CliRunner

from execlog_otel.cli import main
from execlog_otel.store import schema
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository
from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.store import Store

EXPECTED_COLUMNS = [
    ("Timestamp", "DateTime64(9)", "CODEC(Delta(8), ZSTD(1))"),
    ("TraceId", "String", "CODEC(ZSTD(1))"),
    ("SpanId", "String", "CODEC(ZSTD(1))"),
    ("ParentSpanId", "String", "CODEC(ZSTD(1))"),
    ("TraceState", "String", "CODEC(ZSTD(1))"),
    ("SpanName", "LowCardinality(String)", "CODEC(ZSTD(1))"),
    ("SpanKind", "LowCardinality(String)", "CODEC(ZSTD(1))"),
    ("ServiceName", "LowCardinality(String)", "CODEC(ZSTD(1))"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)", "CODEC(ZSTD(1))"),
    ("ScopeName", "String", "CODEC(ZSTD(1))"),
    ("ScopeVersion", "String", "CODEC(ZSTD(1))"),
    ("SpanAttributes", "Map(LowCardinality(String), String)", "CODEC(ZSTD(1))"),
    ("Duration", "UInt64", "CODEC(T64, ZSTD(1))"),
    ("StatusCode", "LowCardinality(String)", "CODEC(ZSTD(1))"),
    ("StatusMessage", "String", "CODEC(ZSTD(1))"),
    ("Events.Timestamp", "Array(DateTime64(9))", "CODEC(ZSTD(1))"),
    ("Events.Name", "Array(LowCardinality(String))", "CODEC(ZSTD(1))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))", "CODEC(ZSTD(1))"),
    ("Links.TraceId", "Array(String)", "CODEC(ZSTD(1))"),
    ("Links.SpanId", "Array(String)", "CODEC(ZSTD(1))"),
    ("Links.TraceState", "Array(String)", "CODEC(ZSTD(1))"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))", "CODEC(ZSTD(1))"),
    ("ResourceAttributeItems", "Array(String)", ""),  # ALIAS: computed when read
    ("SpanAttributeItems", "Array(String)", ""),
]


def _create(store: Store, table: str) -> str:
    return store.pool.query(f"SHOW CREATE TABLE {store.table(table)}").result_rows[0][0]


def test_otel_traces_matches_the_collector_exporter_contract(store):
    cols = store.pool.query(
        "SELECT name, type, compression_codec FROM system.columns WHERE database = {db:String} "
        "AND table = 'otel_traces' ORDER BY position", parameters={"db": store.database}).result_rows
    assert [tuple(c) for c in cols] == EXPECTED_COLUMNS
    ddl = _create(store, "otel_traces")
    for fragment in [
        "INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array')",
        "INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array')",
        "INDEX idx_res_attr_items ResourceAttributeItems TYPE text(tokenizer = 'array')",
        "INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE text(tokenizer = 'array')",
        "INDEX idx_span_attr_items SpanAttributeItems TYPE text(tokenizer = 'array')",
        "INDEX idx_duration Duration TYPE minmax GRANULARITY 1",
        "INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8",
        "ENGINE = MergeTree",
        "PARTITION BY toDate(Timestamp)",
        "PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))",
        "ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)",
        "TTL toDateTime(Timestamp) + toIntervalDay(30)",
        "index_granularity = 8192",
        "ttl_only_drop_parts = 1",
    ]:
        assert fragment in ddl, fragment
    lookup = _create(store, "otel_traces_trace_id_ts")
    assert "ENGINE = AggregatingMergeTree" in lookup and "PARTITION BY toStartOfWeek(Start)" in lookup
    assert "ORDER BY (TraceId)" in lookup and "TTL toDateTime(Start) + toIntervalDay(30)" in lookup
    mv = _create(store, "otel_traces_trace_id_ts_mv")
    assert f"TO {store.database}.otel_traces_trace_id_ts" in mv and "min(Timestamp) AS Start" in mv


def test_derived_tables_share_the_retention(store):
    for table in ("execlog_executions", "execlog_trace_rollups"):
        assert "TTL toDateTime(Start) + toIntervalDay(30)" in _create(store, table)


def test_migrate_is_idempotent_and_recorded(store):
    assert store.migrate() == []
    assert store.applied_versions() == {m.version for m in schema.migrations()}


def _span_rows(trace_id: str, start_ns: int, n_steps: int = 2, service: str = "svc") -> SpanColumns:
    cols = SpanColumns()
    root = uuid.uuid4().hex[:16]
    cols.add(start_ns=start_ns, end_ns=start_ns + 5_000_000, trace_id=trace_id, span_id=root, parent_span_id="",
             trace_state="", name="job", kind="Internal", service_name=service, resource={"service.name": service},
             scope_name="t", scope_version="1", attributes={"execlog.kind": "automation",
                                                            "execlog.execution.name": "job"},
             status_code="Unset", status_message="")
    for i in range(n_steps):
        cols.add(start_ns=start_ns + i, end_ns=start_ns + 1000 + i, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
                 parent_span_id=root, trace_state="", name=f"step{i}", kind="Internal", service_name=service,
                 resource={"service.name": service}, scope_name="t", scope_version="1",
                 attributes={"gen_ai.usage.input_tokens": "10", "gen_ai.usage.output_tokens": "5",
                             "gen_ai.request.model": "m1"},
                 status_code="Unset", status_message="")
    return cols


def test_upgrade_from_an_older_store_backfills_without_losing_rows(ch_client):
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    try:
        assert store.migrate(up_to=1) == ["000_schema_migrations", "001_otel_traces"]
        now = time.time_ns()
        for i in range(3):
            store.insert_span_columns(_span_rows(uuid.uuid4().hex, now + i, n_steps=2).columns)
        applied = store.migrate()
        assert "002_executions" in applied and "003_trace_rollups" in applied
        assert store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 9
        n_exec = store.pool.query(f"SELECT count() FROM {store.table('execlog_executions')} FINAL").result_rows[0][0]
        assert n_exec == 3
        tokens = store.pool.query(
            f"SELECT sum(TotalTokens) FROM {store.table('execlog_trace_rollups')}").result_rows[0][0]
        assert tokens == 3 * 2 * 15
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_changing_retention_alters_every_table(ch_client):
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}", retention_days=30)
    try:
        store.migrate()
        reopened = Store(ch_client, store.database, retention_days=7)
        reopened.migrate()
        for table, column in schema.TTL_TABLES.items():
            assert reopened.table_ttl(table) == f"{column} + toIntervalDay(7)", table
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_ttl_deletes_rows_older_than_the_retention(store):
    now = time.time_ns()
    old = now - 40 * 86400 * 10**9
    store.insert_span_columns(_span_rows("a" * 32, old).columns)
    store.insert_span_columns(_span_rows("b" * 32, now).columns)
    for table in schema.TTL_TABLES:
        store.pool.command(f"ALTER TABLE {store.table(table)} MATERIALIZE TTL SETTINGS mutations_sync = 2")
    traces = store.pool.query(f"SELECT DISTINCT TraceId FROM {store.table('otel_traces')}").result_rows
    assert traces == [("b" * 32,)]
    execs = store.pool.query(f"SELECT ExecutionId FROM {store.table('execlog_executions')} FINAL").result_rows
    assert execs == [("b" * 32,)]


def test_summary_table_agrees_with_direct_aggregation(store):
    now = time.time_ns()
    for i in range(5):
        store.insert_span_columns(_span_rows(uuid.uuid4().hex, now + i, n_steps=i + 1).columns)
    direct = store.pool.query(f"""
        SELECT TraceId, countIf(ParentSpanId != '') AS steps,
               sumIf(toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens'])
                     + toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']), ParentSpanId != '') AS tokens
        FROM {store.table('otel_traces')} GROUP BY TraceId ORDER BY TraceId""").result_rows
    summary = store.pool.query(f"""
        SELECT TraceId, sum(Steps), sum(TotalTokens) FROM {store.table('execlog_trace_rollups')}
        GROUP BY TraceId ORDER BY TraceId""").result_rows
    assert [tuple(r) for r in direct] == [tuple(r) for r in summary]


def test_schema_command_prints_ddl_that_creates_the_same_tables(ch_client, store):
    result = CliRunner().invoke(main, ["schema", "--database", f"p_{store.database}"])
    assert result.exit_code == 0, result.output
    db = f"p_{store.database}"
    try:
        for stmt in schema.statements(result.output):
            ch_client.command(stmt)
        # Not the table a refreshable view fills while it runs (".tmp.inner...", swapped in when done).
        q = ("SELECT name, engine FROM system.tables WHERE database = {db:String} AND NOT startsWith(name, '.') "
             "ORDER BY name")
        printed = ch_client.query(q, parameters={"db": db}).result_rows
        created = ch_client.query(q, parameters={"db": store.database}).result_rows
        assert printed == created
        assert {r[0] for r in printed} >= {"otel_traces", "otel_traces_trace_id_ts", "otel_traces_trace_id_ts_mv",
                                           "execlog_executions", "execlog_trace_rollups"}
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def test_cluster_ddl_parses_with_the_engine_parser(ch_client):
    result = CliRunner().invoke(main, ["schema", "--cluster", "prod"])
    assert result.exit_code == 0, result.output
    stmts = schema.statements(result.output)
    ddl_stmts = [s for s in stmts if not s.startswith("INSERT")]
    assert ddl_stmts and all("ON CLUSTER prod" in s for s in ddl_stmts)
    assert "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')" in result.output
    for stmt in stmts:
        # EXPLAIN AST runs ClickHouse's own parser without executing the statement.
        ast = ch_client.query(f"EXPLAIN AST {stmt}").result_rows
        assert ast, stmt


def test_schema_rejects_unsafe_names():
    result = CliRunner().invoke(main, ["schema", "--database", "otel; DROP TABLE x"])
    assert result.exit_code == 1
    assert "expected a ClickHouse database name" in result.output


def test_store_created_from_printed_ddl_is_not_back_filled_twice(ch_client):
    """Tables made from `execlog schema` (e.g. for the Collector) already hold derived rows; opening the
    store later must not add them again."""
    db = f"d_{uuid.uuid4().hex[:12]}"
    try:
        for stmt in schema.statements(schema.ddl(db)):
            ch_client.command(stmt)
        store = Store(ch_client, db)
        store.insert_span_columns(_span_rows(uuid.uuid4().hex, time.time_ns(), n_steps=2).columns)
        assert store.migrate() == []
        ch_client.command(f"DELETE FROM {db}.execlog_schema_migrations WHERE Version >= 2")
        store.migrate()  # re-runs the derived-table migrations; the tables exist, so no back-fill
        assert ch_client.query(f"SELECT sum(TotalTokens) FROM {db}.execlog_trace_rollups").result_rows[0][0] == 30
        # The printed script carries the shipped prices, so SQL and Grafana can price tokens at once.
        assert ch_client.query(f"SELECT InputPerM FROM {db}.execlog_prices WHERE Model = 'gpt-4o-mini'"
                               ).result_rows == [(0.15,)]
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def test_upgrade_gives_existing_stores_the_derived_connector_query(ch_client):
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    try:
        store.migrate(up_to=4)
        ch_client.command(f"ALTER TABLE {store.table('execlog_trace_rollups_mv')} MODIFY QUERY "
                          f"SELECT TraceId FROM {store.table('otel_traces')}")  # stands in for the old query
        assert "005_derived_connectors" in store.migrate()
        assert "db.system.name" in _create(store, "execlog_trace_rollups_mv")
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


FORCE_MERGED = ("execlog_trace_rollups", "execlog_trace_usage", "execlog_executions", "execlog_attempts")


def _parts_per_partition(store: Store, table: str) -> list[int]:
    return [r[0] for r in store.pool.query(
        "SELECT count() FROM system.parts WHERE active AND database = {db:String} AND table = {t:String}"
        " GROUP BY partition_id ORDER BY partition_id", parameters={"db": store.database, "t": table}).result_rows]


def test_the_derived_tables_merge_each_past_day_into_one_part_by_themselves(store):
    """Migration 039: a day's parts of the tables read by key with FINAL or GROUP BY are merged into one once
    they are all older than the setting (600 s; lowered here so the engine's own background merge is seen)."""
    for table in FORCE_MERGED:
        create = _create(store, table)
        assert "min_age_to_force_merge_seconds = 600" in create
        assert "min_age_to_force_merge_on_partition_only = 1" in create
    day = time.time_ns() - 3 * 86400 * 10**9
    for i in range(3):  # three inserts of the same day: the priced steps' rows too (execlog_trace_usage)
        store.insert_span_columns(_span_rows(uuid.uuid4().hex, day + i * 10**9).columns)
    # Three parts the merge selector leaves alone (it may merge the rollups' six small ones at once).
    assert _parts_per_partition(store, "execlog_trace_usage") == [3]
    for table in FORCE_MERGED:
        store.pool.command(f"ALTER TABLE {store.table(table)} MODIFY SETTING min_age_to_force_merge_seconds = 1")
    parts = {}
    for _ in range(120):
        parts = {table: _parts_per_partition(store, table) for table in FORCE_MERGED}
        if all(p == [1] for p in parts.values()):
            break
        time.sleep(0.5)
    assert parts == {table: [1] for table in FORCE_MERGED}
    assert store.pool.query(f"SELECT count() FROM {store.table('execlog_trace_rollups')}").result_rows == [(3,)]


def test_an_execution_observed_before_migration_040_takes_its_state_from_rows_stored_after(store):
    """Migration 040 orders an execution's observations by attempt first (facts/observation_version.sql). Rows
    stored before it carry the plain end time in nanoseconds as their version; the new versions rank above
    them, so a run observed Running before the upgrade ends in the state its root, stored after, says."""
    trace_id, start = uuid.uuid4().hex, time.time_ns() - 60 * 10**9
    store.insert_span_columns(_span_rows(trace_id, start).columns)  # the root: Success, ended at start + 5 ms
    table = store.table("execlog_executions")
    # The Running state an older store derived a moment after the start, with the version it then computed.
    store.pool.command(f"INSERT INTO {table} SELECT * REPLACE ('Running' AS Status, toDateTime64(0, 9) AS AttemptEnd, "
                       "toUInt64(toUnixTimestamp64Nano(AttemptStart) + 1000000) AS Version) "
                       f"FROM {table} WHERE ExecutionId = {{id:String}}", parameters={"id": trace_id})
    rows = store.pool.query(f"SELECT Status FROM {table} FINAL WHERE ExecutionId = {{id:String}}",
                            parameters={"id": trace_id}).result_rows
    assert rows == [("Success",)]


HOUR_NS = 3600 * 10**9


def _agent_run(trace_id: str, start_ns: int) -> SpanColumns:
    """An agent run: its root, a priced model call with tokens, a tool call."""
    cols, root = SpanColumns(), uuid.uuid4().hex[:16]
    steps = [("agent", {"execlog.kind": "agent", "execlog.execution.name": "researcher"}, ""),
             ("chat gpt-4o-mini", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                                   "gen_ai.usage.input_tokens": "100", "gen_ai.usage.output_tokens": "10"}, root),
             ("execute_tool search", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}, root)]
    for i, (name, attributes, parent) in enumerate(steps):
        cols.add(start_ns=start_ns + i, end_ns=start_ns + 10**8 - i, trace_id=trace_id,
                 span_id=root if not parent else uuid.uuid4().hex[:16], parent_span_id=parent, trace_state="",
                 name=name, kind="Internal", service_name="svc", resource={"service.name": "svc"}, scope_name="t",
                 scope_version="1", attributes=attributes, status_code="Unset", status_message="")
    return cols


def _view_targets(store: Store) -> list[str]:
    """The tables the materialized views write to as spans arrive (a refreshable one replaces its table whole)."""
    creates = store.pool.query("SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                               "AND engine = 'MaterializedView'", parameters={"db": store.database}).result_rows
    return sorted({re.search(r" TO \S+?\.`?(\w+)`?", c).group(1) for (c,) in creates if " REFRESH " not in c})


def test_a_block_stored_again_counts_once_in_every_table_a_view_feeds(store):
    """A client that lost the answer to an insert the store took sends the same block again (the Collector's
    exporter retries an insert that timed out): ClickHouse drops it from otel_traces but still runs the views
    over it, so every table they feed must drop its part too (migration 046). Before, the hourly and per-attempt
    usage and the tool calls counted it twice: the unfiltered totals (hourly) showed twice the tokens of the same
    executions filtered (rollups). Another run whose hourly sums happen to be the same still counts."""
    start = (time.time_ns() // HOUR_NS - 1) * HOUR_NS + 60 * 10**9  # both runs in the same past hour
    run = _agent_run(uuid.uuid4().hex, start)
    targets = _view_targets(store)
    assert {"execlog_usage_hourly", "execlog_trace_usage", "execlog_trace_tools", "execlog_trace_rollups",
            "execlog_llm_usage", "execlog_executions"} <= set(targets)
    repo = Repository(store)

    def rows() -> dict[str, int]:  # one part per table so far: nothing merges them meanwhile
        return {t: store.pool.query(f"SELECT count() FROM {store.table(t)}").result_rows[0][0] for t in targets}

    store.insert_span_columns(run.columns)
    once, totals = rows(), repo.totals(ListFilter())
    assert totals.tokens == 110 and totals.executions == 1
    store.insert_span_columns(run.columns)
    assert rows() == once
    assert repo.totals(ListFilter()) == totals
    assert repo.totals(ListFilter(kind="agent")) == totals  # the rollups' way to the same numbers
    store.insert_span_columns(_agent_run(uuid.uuid4().hex, start).columns)
    assert repo.totals(ListFilter()).tokens == repo.totals(ListFilter(kind="agent")).tokens == 220
    hourly = store.pool.query(f"SELECT sum(TotalTokens) FROM {store.table('execlog_usage_hourly')}").result_rows
    assert hourly == [(220,)]
