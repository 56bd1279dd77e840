"""Executions for the viewer tests, written as real OpenTelemetry spans through ClickHouseSpanExporter.

Each builder sets explicit start / end times so listings have a known order, and returns the
execution id (the trace id of its first attempt).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from execlog_otel import semconv as sc
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.store.store import Store

MS = 1_000_000
SECOND = 1_000 * MS
HOUR = 3_600 * SECOND
DAY = 24 * HOUR


def now_ns() -> int:
    return time.time_ns()


@dataclass
class StepSpec:
    name: str
    kind: str = sc.StepKind.ACTION.value
    offset_ms: float = 1
    duration_ms: float = 5
    status: str = sc.StepStatus.SUCCESS.value
    error: str = ""
    skip_reason: str = ""
    input: Any = None
    output: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[StepSpec] = field(default_factory=list)


class _HeldTogether(SimpleSpanProcessor):
    """Exports each span as it ends, or, inside ``together()``, the spans ended within it as one insert."""

    def __init__(self, exporter: ClickHouseSpanExporter):
        super().__init__(exporter)
        self.held: list[ReadableSpan] | None = None

    def on_end(self, span: ReadableSpan) -> None:
        if self.held is not None:
            self.held.append(span)
        else:
            super().on_end(span)

    @contextmanager
    def together(self) -> Iterator[None]:
        if self.held is not None:  # already inside: the outermost block exports
            yield
            return
        self.held = []
        try:
            yield
        finally:
            spans, self.held = self.held, None
            if spans:
                self.span_exporter.export(spans)


class SpanWriter:
    """A tracer provider exporting synchronously into ``store``: each execution (root and steps) as one insert,
    as an SDK's batch would send it, and everything ended inside ``together()`` as one (an insert runs every
    derived table's view: a span at a time, the viewer data set took 6 s to write)."""

    def __init__(self, store: Store, service: str = "viewer-tests", batch: bool = False,
                 resource: dict[str, str] | None = None):
        self.provider = TracerProvider(resource=Resource.create({"service.name": service, **(resource or {})}))
        exporter = ClickHouseSpanExporter(store=store)
        self._held = _HeldTogether(exporter)
        # Batches for big executions (one insert per few thousand spans).
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=20_000, max_export_batch_size=5_000,
                               schedule_delay_millis=60_000)
            if batch else self._held)
        self.tracer = self.provider.get_tracer("tests.viewer")

    def together(self) -> AbstractContextManager[None]:
        return self._held.together()

    def close(self) -> None:
        self.provider.shutdown()

    def _step(self, parent: Span, start_ns: int, spec: StepSpec) -> None:
        ctx = trace.set_span_in_context(parent)
        begin = start_ns + int(spec.offset_ms * MS)
        span = self.tracer.start_span(spec.name, context=ctx, start_time=begin)
        span.set_attribute(sc.STEP_KIND, spec.kind)
        if spec.status != sc.StepStatus.SUCCESS.value:
            span.set_attribute(sc.STEP_STATUS, spec.status)
        if spec.error:
            span.set_status(Status(StatusCode.ERROR, spec.error))
        if spec.skip_reason:
            span.set_attribute(sc.SKIP_REASON, spec.skip_reason)
        if spec.input is not None:
            span.set_attribute(sc.INPUT, json.dumps(spec.input))
        if spec.output is not None:
            span.set_attribute(sc.OUTPUT, json.dumps(spec.output))
        span.set_attributes(spec.attrs)
        for child in spec.children:
            self._step(span, begin, child)
        span.end(end_time=begin + int(spec.duration_ms * MS))

    def execution(self, name: str, kind: str = "automation", status: str = "Success", *, start_ns: int,
                  duration_ms: float = 50, steps: list[StepSpec] | None = None, input: Any = None,
                  output: Any = None, attrs: dict[str, Any] | None = None, error: str = "",
                  end: bool = True) -> tuple[str, Span]:
        root = self.tracer.start_span(name, start_time=start_ns)
        root.set_attributes({sc.KIND: kind, sc.EXECUTION_NAME: name})
        if input is not None:
            root.set_attribute(sc.INPUT, json.dumps(input))
        root.set_attributes(attrs or {})
        with self.together():
            for spec in steps or []:
                self._step(root, start_ns, spec)
            if end:
                self.finish(root, status, end_ns=start_ns + int(duration_ms * MS), output=output, error=error)
        trace_id = format(root.get_span_context().trace_id, "032x")
        return trace_id, root

    def finish(self, root: Span, status: str, *, end_ns: int, output: Any = None, error: str = "") -> None:
        root.set_attribute(sc.STATUS, status)
        if output is not None:
            root.set_attribute(sc.OUTPUT, json.dumps(output))
        if error:
            root.set_status(Status(StatusCode.ERROR, error))
        root.end(end_time=end_ns)

    def marker(self, root: Span, status: str, *, at_ns: int, execution_start_ns: int, name: str,
               kind: str = "automation", input: Any = None) -> None:
        """A live-state marker, as the SDK emits while the root span is open."""
        ctx = trace.set_span_in_context(root)
        span = self.tracer.start_span(sc.STATE_SPAN_NAME, context=ctx, start_time=at_ns)
        span.set_attributes({sc.MARKER: sc.MARKER_STATE, sc.STATUS: status, sc.KIND: kind, sc.EXECUTION_NAME: name,
                             sc.EXECUTION_START: str(execution_start_ns),
                             "execlog.attempt.start_time_unix_nano": str(execution_start_ns)})
        if input is not None:
            span.set_attribute(sc.INPUT, json.dumps(input))
        span.end(end_time=at_ns)


@dataclass
class ViewerData:
    """Ids of the executions the viewer tests look for."""

    order_sync: str = ""         # automation, Failed, failed + skipped steps, request id req-browser-42
    billing: str = ""            # agent, retried: attempt 1 Failed, attempt 2 of 3 Success
    billing_attempt1: str = ""
    billing_attempt2: str = ""
    archive: str = ""            # automation started three days ago
    xss: str = ""                # name and payloads full of markup
    truncated: str = ""          # agent whose input was truncated
    watcher: str = ""            # automation still Running (root open)
    watcher_root: Span | None = None
    watcher_start: int = 0
    waiting: dict[str, str] = field(default_factory=dict)  # Queued, Pending, Paused executions by name
    ids_by_name: dict[str, str] = field(default_factory=dict)


XSS_NAME = '<img src=x onerror="window.__xss=1">'


def populate(writer: SpanWriter, base_ns: int | None = None) -> ViewerData:
    """The shared data set of the viewer tests: every status and shape the pages must show (one insert)."""
    with writer.together():
        return _populate(writer, base_ns)


def _populate(writer: SpanWriter, base_ns: int | None) -> ViewerData:
    t = base_ns or now_ns() - 10 * 60 * SECOND
    d = ViewerData()
    d.order_sync, _ = writer.execution(
        "order-sync", "automation", "Failed", start_ns=t, duration_ms=420,
        input={"order": 9001, "lines": 3}, output={"synced": False},
        error="Post to ERP: ERP answered 500 Internal Server Error",
        attrs={sc.REQUEST_ID: "req-browser-42", sc.EVENT: "CREATE", sc.TARGET: "Order",
               sc.TARGET_RECORD_ID: "9001", sc.TRIGGERED_BY: "grace@example.com", sc.TRIGGER: "webhook",
               sc.RAISED_ACTION: "post-to-erp", sc.EXECUTED_ACTION_IDS: json.dumps(["fetch-order", "post-to-erp"]),
               sc.VALIDATION_MESSAGE: "ERP answered 500 Internal Server Error"},
        steps=[
            StepSpec("Webhook trigger", sc.StepKind.TRIGGER.value, 0, 2, input={"event": "order.created", "id": 9001}),
            StepSpec("Fetch order", sc.StepKind.CONNECTOR.value, 5, 80, input={"id": 9001},
                     output={"order": {"id": 9001, "total": 99.5}}, attrs={sc.CONNECTOR: "Shopify"}),
            StepSpec("Post to ERP", sc.StepKind.CONNECTOR.value, 90, 300, status="Failed",
                     error="ERP answered 500 Internal Server Error", input={"erp_order": 9001},
                     output={"http_status": 500}, attrs={sc.CONNECTOR: "SAP"}),
            StepSpec("Notify Slack", sc.StepKind.ACTION.value, 395, 1, status="Skipped",
                     skip_reason="previous step failed"),
        ])
    first, _ = writer.execution(
        "billing-agent", "agent", "Failed", start_ns=t + 20 * SECOND, duration_ms=900,
        input={"prompt": "Bill customer 7"}, error="RateLimitError: quota exceeded",
        attrs={sc.MAX_ATTEMPTS: "3", sc.ATTEMPT: "1"},
        steps=[StepSpec("chat gpt-4o", sc.StepKind.LLM.value, 1, 800, status="Failed",
                        error="RateLimitError: quota exceeded",
                        attrs={sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_USAGE_INPUT_TOKENS: 120})])
    second, _ = writer.execution(
        "billing-agent", "agent", "Success", start_ns=t + 60 * SECOND, duration_ms=700,
        input={"prompt": "Bill customer 7"}, output={"invoice": "INV-7"},
        attrs={sc.MAX_ATTEMPTS: "3", sc.ATTEMPT: "2", sc.RETRY_OF: first,
               sc.EXECUTION_START: str(t + 20 * SECOND)},
        steps=[StepSpec("chat gpt-4o", sc.StepKind.LLM.value, 1, 500,
                        attrs={sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_RESPONSE_MODEL: "gpt-4o",
                               sc.GEN_AI_USAGE_INPUT_TOKENS: 300, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 45}),
               StepSpec("execute_tool create_invoice", sc.StepKind.TOOL.value, 510, 100,
                        input={"customer": 7}, output={"invoice": "INV-7"},
                        attrs={sc.GEN_AI_TOOL_NAME: "create_invoice"})])
    d.billing, d.billing_attempt1, d.billing_attempt2 = first, first, second
    d.archive, _ = writer.execution("archive-job", "automation", "Success", start_ns=t - 3 * DAY, duration_ms=1500,
                                    input={"days": 30}, output={"archived": 12},
                                    steps=[StepSpec("Archive", sc.StepKind.ACTION.value, 1, 1400)])
    d.xss, _ = writer.execution(XSS_NAME, "automation", "Rejected", start_ns=t + 30 * SECOND, duration_ms=5000,
                                input={"html": "<script>window.__xss=2</script>"},
                                attrs={sc.REQUEST_ID: "req-<b>bold</b>"},
                                steps=[StepSpec('<svg onload="window.__xss=3">', sc.StepKind.ACTION.value, 1, 10,
                                                output={"x": "</pre><script>window.__xss=4</script>"})])
    d.truncated, _ = writer.execution(
        "summarizer", "agent", "Partially Executed", start_ns=t + 40 * SECOND, duration_ms=30,
        input={"text": "lorem ipsum"}, output={"summary": "short"},
        attrs={sc.INPUT + sc.TRUNCATED_SUFFIX: "true", sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX: "250000"},
        steps=[StepSpec("Summarize", sc.StepKind.LLM.value, 1, 20, attrs={sc.GEN_AI_REQUEST_MODEL: "claude-x"}),
               StepSpec("Translate", sc.StepKind.TOOL.value, 22, 1, status="Skipped", skip_reason="language is en")])
    d.watcher_start = t + 50 * SECOND
    d.watcher, d.watcher_root = writer.execution("watcher", "automation", start_ns=d.watcher_start,
                                                 input={"watch": "inbox"}, end=False)
    writer.marker(d.watcher_root, "Running", at_ns=d.watcher_start + MS, execution_start_ns=d.watcher_start,
                  name="watcher", input={"watch": "inbox"})
    # Waiting states, each an open root with its state marker.
    for offset, (name, status) in enumerate((("throttled-import", "Queued"), ("waiting-job", "Pending"),
                                             ("approval-flow", "Paused"))):
        start = t + (51 + offset) * SECOND
        eid, root = writer.execution(name, "automation", start_ns=start, input={"state": status}, end=False)
        writer.marker(root, status, at_ns=start + MS, execution_start_ns=start, name=name)
        d.waiting[name] = eid
    d.ids_by_name = {**d.waiting, "order-sync": d.order_sync, "billing-agent": d.billing, "archive-job": d.archive,
                     "summarizer": d.truncated, "watcher": d.watcher, XSS_NAME: d.xss}
    return d


def finish_watcher(writer: SpanWriter, d: ViewerData) -> None:
    writer.finish(d.watcher_root, "Success", end_ns=now_ns(), output={"seen": 3})


def big_execution(store: Store, steps: int = 5_000, start_ns: int | None = None) -> str:
    """An agent execution with ``steps`` steps (LLM and tool calls, every 50th failed), nested two deep."""
    writer = SpanWriter(store, batch=True)
    start = start_ns or now_ns() - 20 * 60 * SECOND
    specs = []
    for i in range(steps // 2):
        failed = i % 50 == 49
        specs.append(StepSpec(f"turn {i + 1}", sc.StepKind.NODE.value, i * 2, 2, children=[
            StepSpec(f"chat {i + 1}", sc.StepKind.LLM.value, 0, 1, attrs={
                sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini", sc.GEN_AI_USAGE_INPUT_TOKENS: 10,
                sc.GEN_AI_USAGE_OUTPUT_TOKENS: 5}),
        ], status="Failed" if failed else "Success", error=f"turn {i + 1} failed" if failed else ""))
    trace_id, _ = writer.execution("long-agent", "agent", "Partially Executed", start_ns=start,
                                   duration_ms=steps + 10, steps=specs, input={"goal": "many steps"},
                                   output={"done": True})
    writer.provider.force_flush()
    writer.close()
    return trace_id
