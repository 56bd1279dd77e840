"""The execlog command as users run it: real subprocesses, each owning its own data directory."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest
from benchmarks.common import ServeProcess, clean_env

EXECLOG = [sys.executable, "-m", "execlog_otel.cli"]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def test_sdk_with_otel_traces_exporter_execlog_lands_spans(tmp_path):
    """OTEL_TRACES_EXPORTER=execlog through the SDK's own environment configuration, then serve lists it."""
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent("""
        from opentelemetry import trace
        from opentelemetry.sdk._configuration import _initialize_components
        _initialize_components()  # what opentelemetry-instrument's configurator runs
        tracer = trace.get_tracer("app")
        with tracer.start_as_current_span("nightly") as root:
            root.set_attribute("execlog.kind", "automation")
            root.set_attribute("execlog.execution.name", "nightly-sync")
            for i in range(3):
                with tracer.start_as_current_span(f"step {i}") as s:
                    s.set_attribute("execlog.connector", "Postgres")
        trace.get_tracer_provider().shutdown()
    """))
    data = tmp_path / "data"
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env=clean_env(OTEL_TRACES_EXPORTER="execlog", OTEL_SERVICE_NAME="cron",
                                  EXECLOG_DATA_DIR=str(data), OTEL_METRICS_EXPORTER="none",
                                  OTEL_LOGS_EXPORTER="none"))
    assert run.returncode == 0, run.stderr
    with ServeProcess(data) as serve:
        items = get_json(serve.url + "/api/executions")["items"]
        assert [(i["name"], i["kind"], i["status"], i["steps"], i["connectors"], i["service"]) for i in items] == [
            ("nightly-sync", "automation", "Success", 3, ["Postgres"], "cron")]


def test_exporter_sends_to_the_running_server_when_it_owns_the_directory(tmp_path):
    data = tmp_path / "data"
    with ServeProcess(data) as serve:
        script = tmp_path / "app.py"
        script.write_text(textwrap.dedent("""
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from execlog_otel.ingest.exporter import ClickHouseSpanExporter
            p = TracerProvider()
            p.add_span_processor(SimpleSpanProcessor(ClickHouseSpanExporter()))
            with p.get_tracer("t").start_as_current_span("hello") as s:
                s.set_attribute("execlog.kind", "agent")
            p.shutdown()
        """))
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                             env=clean_env(EXECLOG_DATA_DIR=str(data)))
        assert run.returncode == 0, run.stderr
        # Acknowledged means durable in serve's write-ahead log; its writer inserts right after.
        for _ in range(100):
            items = get_json(serve.url + "/api/executions?kind=agent")["items"]
            if items:
                break
            time.sleep(0.1)
        assert [i["name"] for i in items] == ["hello"]


def test_second_serve_on_the_same_directory_names_the_owner(tmp_path):
    data = tmp_path / "data"
    with ServeProcess(data) as serve:
        second = subprocess.run([*EXECLOG, "serve", "--data", str(data), "--port", "0"], capture_output=True,
                                text=True, timeout=60, env=clean_env())
        assert second.returncode == 1
        assert f"in use by process {serve.proc.pid}" in second.stderr and serve.url in second.stderr


def test_sigterm_flushes_and_exits_cleanly(tmp_path):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    data = tmp_path / "data"
    serve = ServeProcess(data)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=serve.url + "/v1/traces")))
    for i in range(5):
        with provider.get_tracer("t").start_as_current_span(f"run {i}"):
            pass
    provider.shutdown()
    assert serve.stop() == 0, serve.stderr()  # SIGTERM
    assert "stopped" in serve.output()
    with ServeProcess(data) as again:  # the lock was released; the spans are there
        assert get_json(again.url + "/api/executions")["count"] == 5


def test_serve_prints_a_machine_readable_ready_line(tmp_path):
    """Scripts wait on one JSON line rather than scraping the human text: where it listens, and its pid."""
    with ServeProcess(tmp_path / "data") as serve:
        assert serve.ready == {"event": "ready", "url": serve.url, "pid": serve.proc.pid}
        assert serve.url.startswith("http://127.0.0.1:")
        assert get_json(serve.url + "/api/executions")["count"] == 0
        human = serve.output()
    assert f"viewer:   {serve.url}/" in human


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url,expected", [
    ("http://default:secret@127.0.0.1:{port}/otel", "cannot reach ClickHouse at http://default:***@127.0.0.1:"),
    ("ftp://example/otel", "expected chdb:///path or http(s)://"),
])
def test_unusable_clickhouse_url_is_one_clear_line(url, expected):
    run = subprocess.run([*EXECLOG, "serve", "--clickhouse", url.format(port=_closed_port()), "--port", "0"],
                         capture_output=True, text=True, timeout=60, env=clean_env())
    assert run.returncode == 1
    assert expected in run.stderr
    assert "secret" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_bad_setting_is_reported(tmp_path):
    run = subprocess.run([*EXECLOG, "serve", "--data", str(tmp_path), "--port", "0"], capture_output=True,
                         text=True, timeout=60, env=clean_env(EXECLOG_RETENTION_DAYS="thirty"))
    assert run.returncode != 0
    assert "EXECLOG_RETENTION_DAYS='thirty': expected a whole number" in run.stderr
