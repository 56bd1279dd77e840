"""collector-config.yaml: parses, names only options the contrib clickhouse exporter has, matches the
package defaults -- and the Collector path works with the tables `execlog schema` creates."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from execlog_otel.cli import main
from execlog_otel.config import Settings
from execlog_otel.store import schema
from test_dashboards import expand, load_dashboards

CONFIG = Path(__file__).resolve().parent.parent / "collector-config.yaml"

# Options of the contrib `clickhouse` exporter, from open-telemetry/opentelemetry-collector-contrib
# exporter/clickhouseexporter/config.schema.yaml (properties, plus the squashed
# exporterhelper.timeout_config `timeout`) and config.go (`retry_on_failure`: configretry.BackOffConfig,
# `sending_queue`: exporterhelper.QueueBatchConfig), as documented in the exporter's README.
EXPORTER_OPTIONS = {
    "async_insert", "cluster_name", "compress", "connection_params", "create_schema", "database", "endpoint",
    "json", "logs_table_name", "metrics_table_name", "metrics_tables", "password", "profiles_table_name",
    "sending_queue", "table_engine", "tls", "traces_table_name", "ttl", "username", "timeout",
    "retry_on_failure",
}
RETRY_OPTIONS = {"enabled", "initial_interval", "randomization_factor", "multiplier", "max_interval",
                 "max_elapsed_time"}
QUEUE_OPTIONS = {"enabled", "num_consumers", "queue_size", "wait_for_result", "block_on_overflow", "sizer",
                 "storage", "batch"}
# memory_limiter (processor/memorylimiterprocessor) and batch (processor/batchprocessor) options.
MEMORY_LIMITER_OPTIONS = {"check_interval", "limit_mib", "spike_limit_mib", "limit_percentage",
                          "spike_limit_percentage"}
BATCH_OPTIONS = {"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"}
# The exporter's INSERT (exporter/clickhouseexporter/internal/sql_templates/traces_insert.sql).
EXPORTER_INSERT_COLUMNS = (
    "Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, "
    "ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, Events.Timestamp, Events.Name, "
    "Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes")


def load() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def duration_hours(text: str) -> float:
    """A Go duration like 720h or 43200m, in hours."""
    units = {"h": 1, "m": 1 / 60, "s": 1 / 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(float(n) * units[u] for n, u in parts)


def test_config_parses_and_has_the_pipeline():
    cfg = load()
    protocols = cfg["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    pipeline = cfg["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert pipeline["processors"] == ["memory_limiter", "batch"]  # the limiter first, as the Collector advises
    assert pipeline["exporters"] == ["clickhouse"]
    assert set(cfg["processors"]["memory_limiter"]) <= MEMORY_LIMITER_OPTIONS
    assert set(cfg["processors"]["batch"]) <= BATCH_OPTIONS
    for ext in cfg["service"].get("extensions", []):
        assert ext in cfg["extensions"]


def test_exporter_names_only_options_the_contrib_exporter_has():
    exporter = load()["exporters"]["clickhouse"]
    assert set(exporter) <= EXPORTER_OPTIONS, set(exporter) - EXPORTER_OPTIONS
    assert set(exporter["retry_on_failure"]) <= RETRY_OPTIONS
    assert set(exporter["sending_queue"]) <= QUEUE_OPTIONS
    assert exporter["retry_on_failure"]["enabled"] is True and exporter["sending_queue"]["enabled"] is True
    # Endpoint and credentials come from the environment, never written in the file.
    for key in ("endpoint", "username", "password"):
        assert re.fullmatch(r"\$\{env:[A-Z_]+\}", exporter[key]), key
    assert exporter["create_schema"] is False  # `execlog schema` creates the tables and their views


def test_table_ttl_and_database_match_the_package_defaults():
    exporter = load()["exporters"]["clickhouse"]
    settings = Settings.from_env(environ={})
    assert exporter["traces_table_name"] == "otel_traces"
    assert exporter["database"] == settings.database
    assert duration_hours(exporter["ttl"]) == settings.retention_days * 24
    # ... and the table `execlog schema` creates has that TTL.
    assert f"toIntervalDay({settings.retention_days})" in schema.ddl(settings.database, settings.retention_days)


def test_comments_say_when_to_use_it_and_what_must_exist_first():
    text = CONFIG.read_text(encoding="utf-8")
    for phrase in ("execlog schema", "create_schema: false", "execlog serve", "OTEL_TRACES_EXPORTER=execlog",
                   "many runners", "materialized views"):
        assert phrase in text, phrase


@pytest.fixture
def schema_db(ch_client):
    """A database made the way the docs tell a user: `execlog schema` piped into ClickHouse."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    out = CliRunner().invoke(main, ["schema", "--database", database], catch_exceptions=False)
    assert out.exit_code == 0
    for statement in schema.statements(out.output):
        ch_client.command(statement)
    yield database
    ch_client.command(f"DROP DATABASE IF EXISTS {database} SYNC")


def test_spans_inserted_as_the_collector_does_fill_the_dashboards(ch_client, schema_db):
    """The Collector's exporter INSERT into otel_traces of `execlog schema` tables: the derived tables
    fill inside ClickHouse, and the dashboards and the viewer's tables show the execution."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    ts = start.strftime("%Y-%m-%d %H:%M:%S")
    trace = uuid.uuid4().hex
    root = "0123456789abcdef"
    attrs_root = ("{'execlog.kind':'automation','execlog.execution.name':'collector-run',"
                  "'execlog.status':'Failed','execlog.target_record_id':'REC-C1'}")
    attrs_step = "{'execlog.step.status':'Failed','execlog.connector':'salesforce'}"
    values = (
        f"('{ts}.000000000', '{trace}', '{root}', '', '', 'collector-run', 'Server', 'collector-svc', "
        f"{{'service.name':'collector-svc'}}, 'scope', '1.0', {attrs_root}, 3000000000, 'Error', 'boom', "
        "[], [], [], [], [], [], []),"
        f"('{ts}.500000000', '{trace}', 'fedcba9876543210', '{root}', '', 'update-record', 'Internal', "
        f"'collector-svc', {{'service.name':'collector-svc'}}, 'scope', '1.0', {attrs_step}, 1000000000, "
        "'Error', 'invalid', [], [], [], [], [], [], [])")
    ch_client.command(f"INSERT INTO {schema_db}.otel_traces ({EXPORTER_INSERT_COLUMNS}) VALUES {values}")

    row = ch_client.query(f"SELECT Name, Kind, Status, TargetRecordId FROM {schema_db}.execlog_executions FINAL"
                          ).result_rows
    assert row == [("collector-run", "automation", "Failed", "REC-C1")]
    roll = ch_client.query(f"SELECT sum(Steps), sum(FailedSteps), groupUniqArrayArray(Connectors) "
                           f"FROM {schema_db}.execlog_trace_rollups GROUP BY TraceId").result_rows
    assert roll == [(1, 1, ["salesforce"])]

    d = load_dashboards()["execution-overview.json"]
    panel = next(p for p in d["panels"] if p["title"] == "Recent failed executions")
    current = {"database": schema_db, "kind": ["$__all"], "name": ["$__all"], "service": ["$__all"]}
    sql = expand(panel["targets"][0]["rawSql"], current, {}, start - timedelta(hours=1), datetime.now(UTC))
    rows = ch_client.query(sql).named_results()
    assert [(r["name"], r["execution_id"], r["failed_steps"]) for r in rows] == [("collector-run", trace, 1)]
    auto = load_dashboards()["automations.json"]
    panel = next(p for p in auto["panels"] if p["title"] == "Steps that fail most")
    sql = expand(panel["targets"][0]["rawSql"], current, {}, start - timedelta(hours=1), datetime.now(UTC))
    assert ch_client.query(sql).result_rows == [("update-record", 1, 1, "invalid")]
