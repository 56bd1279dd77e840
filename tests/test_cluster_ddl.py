"""The sharded cluster layout (``execlog schema --cluster NAME --shards``): every statement parses with the
engine's own parser, its local part runs (the views fill the derived tables shard by shard), and the
engine's own hash of the sharding key puts every span of every attempt of an execution on one shard.

No ClickHouse cluster can run here: ON CLUSTER, Replicated engines (Keeper) and Distributed tables are
parsed, not executed; the local part runs with their single-node equivalents."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import execlog_otel as ex
from execlog_otel import semconv as sc
from execlog_otel.cli import main
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.store import cluster, schema
from execlog_otel.store.store import Store

SHARDS = 2


def _single_node(statement: str) -> str:
    """The statement as one server without Keeper or cluster runs it."""
    statement = re.sub(r" ON CLUSTER [A-Za-z0-9_]+", "", statement)
    return re.sub(r"Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, )?", r"\1(", statement)


@pytest.fixture
def databases(ch_client):
    main_db = f"t_{uuid.uuid4().hex[:12]}"
    yield main_db, f"{main_db}_local"
    for db in (main_db, f"{main_db}_local"):
        ch_client.command(f"DROP DATABASE IF EXISTS {db} SYNC")


def test_every_statement_of_the_sharded_ddl_parses(ch_client):
    text = cluster.ddl("otel", "prod")
    stmts = schema.statements(text)
    assert len(stmts) > 30
    for stmt in stmts:
        formatted = ch_client.query("SELECT formatQuery({q:String})", parameters={"q": stmt}).result_rows[0][0]
        assert formatted
        if not stmt.startswith("INSERT"):
            assert "ON CLUSTER prod" in stmt, stmt[:120]
    distributed = [s for s in stmts if "ENGINE = Distributed(" in s]
    # a Distributed table over each local table, in the database the viewer reads, spans sharded by execution
    created_local = {m.group(1) for s in stmts if (m := re.match(r"CREATE TABLE IF NOT EXISTS otel_local\.(\w+)", s))}
    assert {"otel_traces", "execlog_executions", "execlog_trace_rollups", "execlog_attempts"} <= created_local
    assert {re.match(r"CREATE TABLE IF NOT EXISTS otel\.(\w+)", s).group(1) for s in distributed} == created_local
    span_table = next(s for s in distributed if "otel.otel_traces " in s)
    assert f"Distributed(prod, otel_local, otel_traces, {cluster.shard_key('otel')})" in span_table
    # a column a migration adds to a local table is added to its Distributed table too
    added = [(m.group(1), m.group(2)) for s in stmts
             if (m := re.match(r"ALTER TABLE otel_local\.(\w+) ON CLUSTER prod\s+ADD COLUMN IF NOT EXISTS (\w+)", s))]
    for table, column in added:
        assert any(re.match(rf"ALTER TABLE otel\.{table} ON CLUSTER prod ADD COLUMN IF NOT EXISTS {column}\b", s)
                   for s in stmts), (table, column)
    # the views are per shard: they read and write the local tables (and the prices, whole on every node)
    for s in stmts:
        if s.startswith("CREATE MATERIALIZED VIEW"):
            s = s.replace("FROM otel.execlog_prices)", "")
            assert s.startswith("CREATE MATERIALIZED VIEW IF NOT EXISTS otel_local.") and " otel." not in s
    # the engines: replicated per shard, the small tables replicated on every node
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', Version)" \
        in text
    assert "'/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}'" in text


def test_the_cli_prints_the_sharded_layout_and_upgrades(ch_client):
    result = CliRunner().invoke(main, ["schema", "--cluster", "prod", "--shards", "--local-database", "spans"])
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE IF NOT EXISTS otel.execlog_executions ON CLUSTER prod AS spans.execlog_executions" \
        in result.output
    last = max(schema.migrations(), key=lambda m: m.version)
    upgrade = CliRunner().invoke(main, ["schema", "--cluster", "prod", "--shards", "--since", str(last.version - 1)])
    # only the last migration's tables (each local, and Distributed over it), none of the earlier ones
    created = set(re.findall(r"CREATE TABLE IF NOT EXISTS \w+\.(\w+)", upgrade.output))
    assert upgrade.exit_code == 0 and created == set(re.findall(r"CREATE TABLE IF NOT EXISTS \{database\}\.(\w+)",
                                                                 last.sql))
    last = last.version
    assert f"({last}, '" in upgrade.output and "INSERT INTO otel.execlog_prices" not in upgrade.output
    # the shards' stored costs are priced with the prices in force, the ones stored before costs were too
    reprice = CliRunner().invoke(main, ["schema", "--cluster", "prod", "--shards", "--reprice"])
    assert reprice.exit_code == 0, reprice.output
    for table in ("execlog_llm_usage", "execlog_trace_usage", "execlog_usage_hourly"):
        assert f"ALTER TABLE otel_local.{table} ON CLUSTER prod\nUPDATE PricedAs" in reprice.output
    assert reprice.output.count("FROM otel.execlog_prices)") >= 3
    before_costs = CliRunner().invoke(main, ["schema", "--cluster", "prod", "--shards", "--since", "35"])
    for stmt in reprice.output.split(";\n"):
        assert stmt.strip() in before_costs.output
    refused = CliRunner().invoke(main, ["schema", "--shards"])
    assert refused.exit_code != 0 and "--cluster" in refused.output


def _shard(client, key: str, table: str) -> dict[str, set[int]]:
    """Shard of every span by trace, as Distributed places it: the key modulo the shards (equal weights)."""
    rows = client.query(f"SELECT TraceId, SpanName, ({key}) % {SHARDS} FROM {table}").result_rows
    out: dict[str, set[int]] = {}
    for trace_id, _name, shard in rows:
        out.setdefault(trace_id, set()).add(int(shard))
    return out


def test_every_span_of_every_attempt_of_an_execution_gets_the_same_shard(ch_client, databases):
    main_db, local_db = databases
    for stmt in cluster.statements(main_db, "prod", local_db):
        if "ENGINE = Distributed(" in stmt:
            continue  # no cluster to distribute over
        if stmt.startswith((f"CREATE OR REPLACE VIEW {main_db}.", f"ALTER TABLE {main_db}.")):
            continue  # reads or alters the Distributed tables
        ch_client.command(_single_node(stmt))
    local = Store(ch_client, local_db)
    provider = TracerProvider(resource=Resource.create({"service.name": "shard-tests"}))
    handle = ex.configure(tracer_provider=provider, exporter=ClickHouseSpanExporter(store=local, migrate=False),
                          flush_interval_ms=50, capture_code=False)
    try:
        @ex.automation("flaky-import")
        def flaky(n: int) -> int:
            for i in range(6):
                with ex.step(f"fetch {i}", kind="connector", connector="postgres"):
                    pass
            if n < 3:
                raise RuntimeError("upstream down")
            return n

        with pytest.raises(RuntimeError):
            flaky(1)
        handle.force_flush()
        first_trace, first_root, start = ch_client.query(
            f"SELECT TraceId, SpanId, toUnixTimestamp64Nano(Timestamp) FROM {local_db}.otel_traces "
            "WHERE ParentSpanId = '' AND SpanName = 'flaky-import'").result_rows[0]
        with ex.attempt_of(first_trace, 2, int(start), first_root):
            with pytest.raises(RuntimeError):
                flaky(2)
        with ex.attempt_of(first_trace, 3, int(start), first_root):
            assert flaky(3) == 3
        # An execution whose id is not a trace id (a Celery task's), first attempt included.
        with ex.attempt_of("task-6f1c0d2e", 1, time.time_ns()):
            assert flaky(5) == 5
        handle.force_flush()
    finally:
        handle.shutdown()

    table = f"{local_db}.otel_traces"
    attempts = ch_client.query(
        f"SELECT {cluster.shard_key(local_db)}, TraceId, SpanAttributes[{{a:String}}], "
        f"SpanAttributes[{{r:String}}], ParentSpanId = '' FROM {table} WHERE SpanName = 'flaky-import'",
        parameters={"a": sc.ATTEMPT, "r": sc.RETRY_OF}).result_rows
    traces_of = {}
    for _key, trace_id, _attempt, retry_of, _root in attempts:
        traces_of.setdefault(retry_of or trace_id, set()).add(trace_id)
    assert sorted(len(t) for t in traces_of.values()) == [1, 3]  # the retried execution: three traces
    retried = traces_of[first_trace]
    celery = traces_of["task-6f1c0d2e"]
    key = cluster.shard_key(local_db)
    by_trace = _shard(ch_client, key, table)
    names = dict(ch_client.query(f"SELECT SpanName, count() FROM {table} GROUP BY SpanName").result_rows)
    assert names["flaky-import"] >= 4 and sum(n for k, n in names.items() if k.startswith("fetch ")) == 4 * 6, names
    # Every span of the three attempts (roots and steps) on one shard; the task's spans on one shard.
    assert len(set().union(*(by_trace[t] for t in retried))) == 1
    assert len(set().union(*(by_trace[t] for t in celery))) == 1
    # The steps of later attempts carry the execution id the key reads; first attempts' steps need nothing.
    stamped = ch_client.query(
        f"SELECT TraceId, countIf(SpanAttributes[{{e:String}}] = {{x:String}}), count() FROM {table} "
        "WHERE ParentSpanId != '' GROUP BY TraceId", parameters={"e": sc.EXECUTION_ID, "x": first_trace}).result_rows
    per_trace = {t: (n, total) for t, n, total in stamped}
    assert per_trace[first_trace][0] == 0
    assert all(per_trace[t][0] == per_trace[t][1] >= 6 for t in retried - {first_trace})
    # Sharding by trace id would split the retried execution for some shard count (the attempts' trace
    # ids are random), which is why the key is the execution's.
    assert any(len({int(ch_client.query(f"SELECT cityHash64({{t:String}}) % {n}", parameters={"t": t})
                        .result_rows[0][0]) for t in retried}) > 1 for n in range(2, 9))
    # The views work on the shard's local tables: one execution row each, the retried one at attempt 3.
    rows = ch_client.query(f"SELECT ExecutionId, argMax(Attempt, Version), argMax(Status, Version) "
                           f"FROM {local_db}.execlog_executions GROUP BY ExecutionId ORDER BY ExecutionId").result_rows
    assert sorted(rows) == sorted([(first_trace, 3, "Success"), ("task-6f1c0d2e", 1, "Success")])


def test_the_shards_stored_costs_are_priced_again_from_the_global_prices(ch_client, databases):
    """The shards' views price arriving LLM spans from the main database's prices, and the statements of
    ``execlog schema --shards --reprice`` price what they stored again after the prices change."""
    main_db, local_db = databases
    for stmt in cluster.statements(main_db, "prod", local_db):
        if "ENGINE = Distributed(" in stmt or stmt.startswith((f"CREATE OR REPLACE VIEW {main_db}.",
                                                               f"ALTER TABLE {main_db}.")):
            continue
        ch_client.command(_single_node(stmt))
    prices = f"{main_db}.execlog_prices"
    ch_client.command(f"INSERT INTO {prices} (Model, Provider, InputPerM, OutputPerM) "
                      "VALUES ('shard-model', 'x', 1, 2)")
    span = {"gen_ai.request.model": "shard-model", "gen_ai.usage.input_tokens": "1000",
            "gen_ai.usage.output_tokens": "1000"}
    ch_client.insert(f"{local_db}.otel_traces", [[datetime.now(UTC), "a" * 32, "b" * 16, "c" * 16, "chat",
                                                  "SPAN_KIND_CLIENT", "svc", span, "STATUS_CODE_OK"]],
                     column_names=["Timestamp", "TraceId", "SpanId", "ParentSpanId", "SpanName", "SpanKind",
                                   "ServiceName", "SpanAttributes", "StatusCode"])
    cost = f"SELECT sum(TokenCostUsd) FROM {local_db}.{{t}}"
    tables = ("execlog_llm_usage", "execlog_trace_usage", "execlog_usage_hourly")
    assert [ch_client.query(cost.format(t=t)).result_rows[0][0] for t in tables] == pytest.approx([0.003] * 3)
    ch_client.command(f"ALTER TABLE {prices} UPDATE InputPerM = 10 WHERE 1", settings={"mutations_sync": 2})
    for stmt in cluster.reprice_statements(main_db, "prod", local_db):
        ch_client.command(_single_node(stmt), settings={"mutations_sync": 2})
    assert [ch_client.query(cost.format(t=t)).result_rows[0][0] for t in tables] == pytest.approx([0.012] * 3)
