"""Each example, run as a real program under ``opentelemetry-instrument`` with the execlog distro (no code
changes, no configure() call), yields the right executions in the store and through /api/executions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from execlog_otel.store.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent


def run_instrumented(script: Path, server_url: str, service: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    environ.update(OTEL_PYTHON_DISTRO="execlog", EXECLOG_ENDPOINT=server_url, EXECLOG_FLUSH_INTERVAL_MS="200",
                   OTEL_SERVICE_NAME=service, PYTHONUNBUFFERED="1", **env)
    proc = subprocess.run([str(BIN / "opentelemetry-instrument"), sys.executable, str(script)], env=environ,
                          cwd=str(ROOT), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def api_items(url: str, **params) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/executions?{urllib.parse.urlencode({'limit': 100, **params})}",
                                timeout=10) as resp:
        return json.loads(resp.read())["items"]


def wait_items(url: str, count: int, **params) -> list[dict]:
    deadline = time.monotonic() + 30
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = [i for i in api_items(url, **params) if not i["live"]]
        if len(items) >= count:
            return items
        time.sleep(0.2)
    raise AssertionError(f"expected {count} finished executions for {params}, got {items}")


def detail(url: str, execution_id: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/executions/{execution_id}", timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_langgraph_agent_example(server, store):
    proc = run_instrumented(EXAMPLES / "agent_langgraph" / "agent.py", server.url, "travel-agents")
    assert "In Paris it is nice" in proc.stdout
    items = wait_items(server.url, 2, name="travel-agent")
    by_status = {i["status"]: i for i in items}
    ok, failed = by_status["Success"], by_status["Failed"]
    assert ok["kind"] == "agent" and ok["service"] == "travel-agents"
    assert ok["models"] == ["gpt-4o-mini"] and ok["tools"] == ["convert_currency", "get_weather"]
    assert (ok["input_tokens"], ok["output_tokens"]) == (120 + 160 + 210, 18 + 22 + 30)
    steps = detail(server.url, ok["id"])["steps"]
    kinds = [s["kind"] for s in steps]
    assert kinds.count("llm") == 3 and kinds.count("tool") == 2 and kinds.count("node") >= 5
    assert [s["model"] for s in steps if s["kind"] == "llm"] == ["gpt-4o-mini"] * 3
    tool_names = sorted(s["tool"] for s in steps if s["kind"] == "tool")
    assert tool_names == ["convert_currency", "get_weather"]
    assert failed["status_message"].startswith("RuntimeError")
    # The execution's input is the prompt; its output the final messages.
    root = next(r for r in Repository(store).trace_spans(ok["trace_id"]) if not r["ParentSpanId"])
    assert json.loads(root["SpanAttributes"]["execlog.input"]) == {
        "messages": [{"role": "human", "content": "Weather in Paris, and 100 EUR in USD?"}]}
    assert "In Paris it is nice" in root["SpanAttributes"]["execlog.output"]


def test_celery_automation_example(server, store):
    proc = run_instrumented(EXAMPLES / "automation_celery" / "app.py", server.url, "shop-worker")
    assert "order 4: ConnectorError" in proc.stdout
    items = wait_items(server.url, 4, name="shop.sync_order")
    assert all(i["kind"] == "automation" and i["service"] == "shop-worker" for i in items)
    by_status: dict[str, list[dict]] = {}
    for i in items:
        by_status.setdefault(i["status"], []).append(i)
    assert sorted((s, len(v)) for s, v in by_status.items()) == [
        ("Failed", 1), ("Partially Executed", 1), ("Success", 2)]
    partial = by_status["Partially Executed"][0]
    assert (partial["steps"], partial["failed_steps"], partial["skipped_steps"]) == (3, 1, 1)
    assert partial["connectors"] == ["SAP ERP", "Shopify", "Slack"]
    failed = by_status["Failed"][0]
    assert failed["status_message"] == "ConnectorError: Shopify: 404 order not found"
    retried = next(i for i in by_status["Success"] if i["attempt"] == 2)
    attempts = detail(server.url, retried["id"])["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "Failed"), (2, "Success")]
    # The execution id is the Celery task id; the task's arguments are the input.
    assert retried["request_id"].replace("-", "") == retried["id"]
    spans = Repository(store).trace_spans(retried["trace_id"])
    root = next(r for r in spans if not r["ParentSpanId"])
    assert json.loads(root["SpanAttributes"]["execlog.input"]) == {"order_id": 5, "notify": True}
    # The task's module is the script here (__main__); its function and source are recorded for Download Code.
    assert root["SpanAttributes"]["execlog.retry.target"] == "__main__:sync_order"
    assert root["SpanAttributes"]["code.function.name"] == "__main__.sync_order"
    assert "def sync_order" in root["SpanAttributes"]["execlog.code.source"]


def test_plain_script_example_with_openai(server, store):
    proc = run_instrumented(EXAMPLES / "plain_script" / "app.py", server.url, "nightly-jobs",
                            EXECLOG_AUTOMATIONS="jobs:nightly_sync,jobs:import_orders")
    assert "import failed" in proc.stderr
    nightly = wait_items(server.url, 1, name="nightly_sync")[0]
    imports = wait_items(server.url, 2, name="import_orders")
    assert nightly["kind"] == "automation" and nightly["status"] == "Success"
    # The fake server counts words: 5 in the prompt, 7 in the answer — once, though two OpenAI instrumentors are
    # installed here (OpenTelemetry's and openinference's, a [test] dependency): the distro loads one per
    # library, and both recorded every call before (a model call under a model call: 10 and 14 tokens).
    assert nightly["models"] == ["gpt-4o-mini-2024-07-18"] and nightly["total_tokens"] == 12
    steps = detail(server.url, nightly["id"])["steps"]
    assert [s["kind"] for s in steps] == ["llm"]
    assert (steps[0]["model"], steps[0]["input_tokens"], steps[0]["output_tokens"]) == ("gpt-4o-mini-2024-07-18", 5, 7)
    assert sorted(i["status"] for i in imports) == ["Failed", "Success"]
    failed = next(i for i in imports if i["status"] == "Failed")
    assert failed["status_message"] == "ValueError: row without id: {'sku': 'no-id'}"
    root = next(r for r in Repository(store).trace_spans(nightly["trace_id"]) if not r["ParentSpanId"])
    assert json.loads(root["SpanAttributes"]["execlog.input"]) == {"region": "emea", "limit": 25}
    assert root["SpanAttributes"]["execlog.retry.target"] == "jobs:nightly_sync"


@pytest.mark.parametrize("example", ["agent_langgraph/agent.py", "automation_celery/app.py", "plain_script/app.py"])
def test_examples_run_without_instrumentation(example):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    proc = subprocess.run([sys.executable, str(EXAMPLES / example)], env=environ, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
