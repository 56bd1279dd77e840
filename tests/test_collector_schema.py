"""The Collector exporter's current table layout: new stores get it; a store holding the previous
generation (as that exporter, or execlog before migration 007, created it) is rebuilt without losing
a row or counting one twice, and the viewer serves it the same before and after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import sql_fixture_data as fx
from execlog_otel import server as server_mod
from execlog_otel.config import Settings
from execlog_otel.store import schema
from execlog_otel.store.store import Store
from reliability_support import interrupt_rebuild
from sdk_support import Api

PREVIOUS = (Path(__file__).resolve().parent / "collector_ddl" / "previous_generation.sql").read_text()
ROLLUP_SUMS = ("SELECT TraceId, sum(Steps), sum(FailedSteps), sum(InputTokens), sum(OutputTokens) "
               "FROM {db}.execlog_trace_rollups GROUP BY TraceId ORDER BY TraceId")
SPANS = ("SELECT TraceId, SpanId, Timestamp, Duration, SpanName, SpanAttributes, `Events.Name` "
         "FROM {db}.otel_traces ORDER BY TraceId, SpanId")


def _table(store: Store, name: str) -> tuple:
    return store.pool.query(
        "SELECT engine, sorting_key, partition_key, create_table_query FROM system.tables "
        "WHERE database = {db:String} AND name = {t:String}", parameters={"db": store.database, "t": name},
    ).result_rows[0]


def _settled(items: list[dict]) -> list[dict]:
    """Listing items without the running ones' duration, which grows while the test runs."""
    return [{k: v for k, v in item.items() if not (item["live"] and k == "duration_ms")} for item in items]


def _rows(store: Store, sql: str) -> list[tuple]:
    return store.pool.query(sql.format(db=store.database)).result_rows


REBUILD = "007_collector_current_schema"


@pytest.fixture
def previous_store(ch_client, monkeypatch):
    """A store whose span tables were created by the previous generation's DDL, with every other migration
    applied (the derived tables the viewer reads), and the rebuild still to come."""
    store = Store(ch_client, f"t_{uuid.uuid4().hex[:12]}")
    ch_client.command(f"CREATE DATABASE {store.database}")
    for stmt in schema.statements(schema.render(PREVIOUS, store.database)):
        ch_client.command(stmt)
    with monkeypatch.context() as m:
        m.setattr(schema, "REBUILD", {})
        store.migrate()
    ch_client.command(f"ALTER TABLE {store.table('execlog_schema_migrations')} DELETE WHERE Name = '{REBUILD}' "
                      "SETTINGS mutations_sync = 2")
    yield store
    ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_a_new_store_has_the_exporters_current_layout(store):
    engine, key, _, ddl = _table(store, "otel_traces")
    assert key == "ServiceName, SpanName, toDateTime(Timestamp), Timestamp"
    assert "PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))" in ddl
    assert "`Duration` UInt64 CODEC(T64, ZSTD(1))" in ddl
    assert "`SpanAttributeItems` Array(String) ALIAS" in ddl and "`ResourceAttributeItems` Array(String) ALIAS" in ddl
    # chDB's engine has text indexes, so the exporter's text-index branch is the one taken.
    assert "INDEX idx_span_attr_items SpanAttributeItems TYPE text(tokenizer = 'array')" in ddl
    assert "INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8" in ddl
    engine, key, partition, ddl = _table(store, "otel_traces_trace_id_ts")
    assert engine == "AggregatingMergeTree" and partition == "toStartOfWeek(Start)"
    assert "SimpleAggregateFunction(min, DateTime)" in ddl and "SimpleAggregateFunction(max, DateTime)" in ddl


def test_bloom_filters_where_the_engine_has_no_text_indexes():
    assert not schema.supports_full_text_search("25.8.3.1") and schema.supports_full_text_search("26.2.1")
    ddl = schema.ddl("otel", full_text_search=False)
    assert "idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01)" in ddl
    assert "TYPE text(" not in ddl and "SpanAttributeItems Array(String) ALIAS" in ddl


def test_previous_generation_is_rebuilt_without_loss_and_serves_the_viewer(previous_store, chdb_url):
    store = previous_store
    assert _table(store, "otel_traces")[1] == "ServiceName, SpanName, toDateTime(Timestamp)"
    fx.load(store)
    spans, sums = _rows(store, SPANS), _rows(store, ROLLUP_SUMS)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    running = server_mod.start(settings, store=store).start_background()
    try:
        api = Api(running.url)
        before = _settled(api.list(limit=100))
        finished = next(item["id"] for item in before if not item["live"])
        detail_before = api.detail(finished)

        assert store.migrate() == [REBUILD]

        assert _table(store, "otel_traces")[1] == "ServiceName, SpanName, toDateTime(Timestamp), Timestamp"
        assert _table(store, "otel_traces_trace_id_ts")[0] == "AggregatingMergeTree"
        assert _rows(store, SPANS) == spans  # every span, once (two partitions: today and three days ago)
        assert _rows(store, ROLLUP_SUMS) == sums  # the views were not fed the copied rows again
        assert "non_replicated_deduplication_window = 10000" in _table(store, "otel_traces")[3]
        assert not store.pool.query(f"SHOW TABLES FROM {store.database} LIKE '%previous%'").result_rows
        # Queries written for the Collector's current tables work.
        model_spans = _rows(store, "SELECT count() FROM {db}.otel_traces "
                                   "WHERE has(SpanAttributeItems, 'gen_ai.request.model=gpt-4o')")[0][0]
        assert model_spans == _rows(store, "SELECT countIf(SpanAttributes['gen_ai.request.model'] = 'gpt-4o') "
                                           "FROM {db}.otel_traces")[0][0] > 0
        ranges = _rows(store, "SELECT count(), countIf(s <= e) FROM (SELECT TraceId, min(Start) s, max(End) e "
                              "FROM {db}.otel_traces_trace_id_ts GROUP BY TraceId)")[0]
        assert ranges[0] == len({r[0] for r in spans}) == ranges[1]

        assert _settled(api.list(limit=100)) == before
        assert api.detail(finished) == detail_before
        # Spans arriving after the swap feed the views once: the same traces a day earlier double each sum.
        fx.load(store, now=datetime.now(UTC) - timedelta(days=1))
        assert [r[:3] for r in _rows(store, ROLLUP_SUMS)] == [(t, 2 * n, 2 * f) for t, n, f, *_ in sums]
    finally:
        running.close()
    assert store.migrate() == []  # a store with the current layout is left alone


def test_an_interrupted_rebuild_resumes_where_it_stopped(previous_store, monkeypatch):
    store = previous_store
    fx.load(store)
    spans, sums = _rows(store, SPANS), _rows(store, ROLLUP_SUMS)
    interrupt_rebuild(store, monkeypatch, "otel_traces")
    assert store.migrate() == [REBUILD]
    assert _rows(store, SPANS) == spans and _rows(store, ROLLUP_SUMS) == sums


def test_legacy_collector_values_read_as_error_and_client(store, server):
    """Rows of Collector versions that wrote STATUS_CODE_ERROR / SPAN_KIND_CLIENT: a failed execution, a
    failed step and a connector, as with today's values."""
    from execlog_otel import semconv as sc
    from execlog_otel.store.rows import SpanColumns

    cols = SpanColumns()
    start = int(datetime.now(UTC).timestamp()) * fx.S - 60 * fx.S
    tid, root = fx.trace_id("legacy-values"), fx.span_id("legacy-values/root")
    common = dict(trace_id=tid, trace_state="", service_name="old-collector", resource={"service.name": "old"},
                  scope_name="", scope_version="", status_message="")
    cols.add(start_ns=start, end_ns=start + fx.S, span_id=root, parent_span_id="", name="legacy-agent",
             kind="SPAN_KIND_INTERNAL", status_code="STATUS_CODE_ERROR",
             attributes={sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "legacy-agent"}, **common)
    cols.add(start_ns=start, end_ns=start + fx.S // 2, span_id=fx.span_id("legacy-values/http"),
             parent_span_id=root, name="POST", kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_ERROR",
             attributes={sc.SERVER_ADDRESS: "crm.example.com"}, **common)
    store.insert_span_columns(cols.columns)
    item = Api(server.url).wait_status("legacy-agent", "Failed")
    assert item["failed_steps"] == 1 and item["connectors"] == ["crm.example.com"]
    steps = Api(server.url).detail(item["id"])["steps"]
    assert [(s["status"], s["connector"]) for s in steps] == [("Failed", "crm.example.com")]


def test_logs_and_metric_tables_as_the_exporter_creates_them(store):
    engine, key, partition, ddl = _table(store, "otel_logs")
    assert key == "toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp" and partition == "toDate(Timestamp)"
    assert "`EventName` String" in ddl and "INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')" \
        in ddl and "TTL toDateTime(Timestamp) + toIntervalDay(30)" in ddl
    for table in ("gauge", "sum", "histogram", "exponential_histogram", "summary"):
        engine, key, partition, ddl = _table(store, f"otel_metrics_{table}")
        assert key == "ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix", table
        assert "TTL toDateTime(TimeUnix) + toIntervalDay(30)" in ddl and "`Exemplars.TraceId`" in ddl or \
            table == "summary"
