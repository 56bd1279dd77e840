"""collector-gateway.yaml (the reference layout's gateway): parses, the limiter before the batch of
10,000 spans / 5 s, only options the contrib exporter has, a persistent queue, the Distributed table."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from execlog_otel.config import Settings
from execlog_otel.store import cluster
from test_collector_config import (
    BATCH_OPTIONS,
    EXPORTER_OPTIONS,
    MEMORY_LIMITER_OPTIONS,
    QUEUE_OPTIONS,
    RETRY_OPTIONS,
    duration_hours,
)

GATEWAY = Path(__file__).resolve().parent.parent / "collector-gateway.yaml"


def test_gateway_config_batches_limits_retries_and_queues_on_disk():
    cfg = yaml.safe_load(GATEWAY.read_text(encoding="utf-8"))
    pipeline = cfg["service"]["pipelines"]["traces"]
    assert pipeline == {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["clickhouse"]}
    assert set(cfg["processors"]["memory_limiter"]) <= MEMORY_LIMITER_OPTIONS
    batch = cfg["processors"]["batch"]
    assert set(batch) <= BATCH_OPTIONS and batch["send_batch_size"] == 10_000 and batch["timeout"] == "5s"
    exporter = cfg["exporters"]["clickhouse"]
    assert set(exporter) <= EXPORTER_OPTIONS, set(exporter) - EXPORTER_OPTIONS
    assert set(exporter["retry_on_failure"]) <= RETRY_OPTIONS and exporter["retry_on_failure"]["enabled"] is True
    queue = exporter["sending_queue"]
    assert set(queue) <= QUEUE_OPTIONS and queue["enabled"] is True
    assert queue["storage"] in cfg["extensions"] and queue["storage"] in cfg["service"]["extensions"]
    for key in ("endpoint", "username", "password"):
        assert re.fullmatch(r"\$\{env:[A-Z_]+\}", exporter[key]), key
    settings = Settings.from_env(environ={})
    assert exporter["create_schema"] is False and exporter["database"] == settings.database
    assert duration_hours(exporter["ttl"]) == settings.retention_days * 24
    # the table it writes is the sharded layout's Distributed span table
    assert f"CREATE TABLE IF NOT EXISTS {settings.database}.{exporter['traces_table_name']} ON CLUSTER execlog AS" \
        in cluster.ddl(settings.database, "execlog")
    assert "execlog schema --cluster execlog --shards" in GATEWAY.read_text(encoding="utf-8")
