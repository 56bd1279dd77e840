"""Sample executions for ``execlog demo``, sent through the real OpenTelemetry SDK and OTLP/HTTP."""

from __future__ import annotations

import json
import random
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from execlog_otel import semconv as sc


def _agent(tracer, name: str, prompt: str, tools: list[str], model: str, fail: bool) -> None:
    with tracer.start_as_current_span(f"invoke_agent {name}") as root:
        root.set_attributes({sc.KIND: "agent", sc.EXECUTION_NAME: name, sc.GEN_AI_OPERATION_NAME: "invoke_agent",
                             sc.GEN_AI_AGENT_NAME: name, sc.INPUT: json.dumps({"prompt": prompt})})
        for tool in tools:
            with tracer.start_as_current_span(f"chat {model}") as s:
                s.set_attributes({sc.STEP_KIND: "llm", sc.GEN_AI_OPERATION_NAME: "chat",
                                  sc.GEN_AI_REQUEST_MODEL: model, sc.GEN_AI_RESPONSE_MODEL: model,
                                  sc.GEN_AI_USAGE_INPUT_TOKENS: random.randint(200, 900),
                                  sc.GEN_AI_USAGE_OUTPUT_TOKENS: random.randint(20, 300)})
            with tracer.start_as_current_span(f"execute_tool {tool}") as s:
                s.set_attributes({sc.STEP_KIND: "tool", sc.GEN_AI_OPERATION_NAME: "execute_tool",
                                  sc.GEN_AI_TOOL_NAME: tool, sc.INPUT: json.dumps({"query": prompt[:40]}),
                                  sc.OUTPUT: json.dumps({"results": 3})})
        if fail:
            root.set_status(Status(StatusCode.ERROR, "RateLimitError: model quota exceeded"))
            root.set_attribute(sc.STATUS, "Failed")
        else:
            root.set_attribute(sc.OUTPUT, json.dumps({"answer": f"Done: {prompt[:30]}"}))
            root.set_attribute(sc.STATUS, "Success")


def _automation(tracer, name: str, payload: dict, connectors: list[str], failing: str | None,
                partial: bool, request_id: str) -> None:
    with tracer.start_as_current_span(name) as root:
        root.set_attributes({sc.KIND: "automation", sc.EXECUTION_NAME: name, sc.TRIGGER: "http",
                             sc.TRIGGER_PAYLOAD: json.dumps(payload), sc.INPUT: json.dumps(payload),
                             sc.REQUEST_ID: request_id, sc.EVENT: "UPDATE", sc.TARGET: "Part",
                             sc.TARGET_RECORD_ID: str(payload.get("id", "")), sc.TRIGGERED_BY: "ada@example.com"})
        with tracer.start_as_current_span("HTTP trigger") as s:
            s.set_attributes({sc.STEP_KIND: "trigger", sc.INPUT: json.dumps(payload)})
        failed = False
        for c in connectors:
            with tracer.start_as_current_span(f"{c} action") as s:
                s.set_attributes({sc.STEP_KIND: "connector", sc.CONNECTOR: c, sc.INPUT: json.dumps(payload)})
                if c == failing:
                    s.set_status(Status(StatusCode.ERROR, f"{c}: 502 Bad Gateway"))
                    s.set_attribute(sc.STEP_STATUS, "Failed")
                    failed = True
                else:
                    s.set_attribute(sc.OUTPUT, json.dumps({"ok": True, "connector": c}))
        if partial:
            with tracer.start_as_current_span("Notify") as s:
                s.set_attributes({sc.STEP_KIND: "action", sc.STEP_STATUS: "Skipped",
                                  sc.SKIP_REASON: "condition not met"})
        status = "Partially Executed" if (partial or (failed and not failing == connectors[0])) else (
            "Failed" if failed else "Success")
        if status == "Failed":
            root.set_status(Status(StatusCode.ERROR, f"{failing}: 502 Bad Gateway"))
        root.set_attribute(sc.STATUS, status)
        root.set_attribute(sc.OUTPUT, json.dumps({"status": status}))


def feed(url: str, rounds: int = 1, seed: int = 7) -> int:
    """Send sample executions to the server at ``url``; returns how many were sent."""
    rng = random.Random(seed)
    random.seed(seed)
    provider = TracerProvider(resource=Resource.create({"service.name": "execlog-demo"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url.rstrip("/") + "/v1/traces")))
    tracer = provider.get_tracer("execlog_otel.demo")
    count = 0
    for _ in range(rounds):
        for i, (name, prompt, tools) in enumerate([
            ("research-agent", "Find three recent papers on retrieval", ["web_search", "summarize"]),
            ("support-agent", "Customer asks for a refund on order 1042", ["lookup_order", "issue_refund"]),
            ("content-writer", "Write a release note for v2", ["web_search"]),
        ]):
            _agent(tracer, name, prompt, tools, rng.choice(["gpt-4o-mini", "claude-sonnet-4"]), fail=(i == 1))
            count += 1
        for i, (name, connectors, failing, partial) in enumerate([
            ("sync-inventory", ["Shopify", "Slack"], None, False),
            ("import-orders", ["HTTP", "Postgres"], "HTTP", False),
            ("publish-entry", ["Contentstack", "Slack"], "Slack", False),
            ("nightly-report", ["BigQuery", "Email"], None, True),
        ]):
            _automation(tracer, name, {"id": 30 + i, "sku": f"SKU-{i}"}, connectors, failing, partial,
                        request_id=f"req-{1000 + count}")
            count += 1
    provider.force_flush()
    provider.shutdown()
    return count


def sleep_forever() -> None:
    time.sleep(3600)
