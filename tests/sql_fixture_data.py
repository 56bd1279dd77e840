"""A small execution log with known numbers, for proving dashboard panels and documented SQL.

Spans are written the way every ingest path writes them: ``SpanColumns`` rows inserted into
``otel_traces``; the derived tables (``execlog_executions``, ``execlog_trace_rollups``) are then
filled by the materialized views inside ClickHouse, exactly as for spans from the Collector.

Every recent execution starts inside one clock hour ``T0 .. T0+1h`` of one calendar day, within
the last 24 hours; one old execution lies three days earlier. The numbers the tests expect are
written next to the data below, so a reader can check them by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from execlog_otel import semconv as sc
from execlog_otel.store.rows import SpanColumns
from execlog_otel.store.store import Store

S = 1_000_000_000  # ns per second
AGENTS_SVC = "support-agents"
CRM_SVC = "ops-automations"
BILLING_SVC = "billing"


def trace_id(label: str) -> str:
    return hashlib.md5(f"trace:{label}".encode()).hexdigest()


def span_id(label: str) -> str:
    return hashlib.md5(f"span:{label}".encode()).hexdigest()[:16]


def anchor(now: datetime | None = None) -> datetime:
    """T0: an hour boundary at least 2 h in the past whose hour lies wholly in one calendar day."""
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if now - day >= timedelta(hours=3):
        return day + timedelta(hours=1)
    return day - timedelta(hours=12)  # just after midnight: use noon of the day before


@dataclass
class Step:
    name: str
    offset_s: float
    duration_s: float
    attrs: dict[str, str] = field(default_factory=dict)
    error: str = ""  # StatusCode Error with this message when set


@dataclass
class Run:
    label: str
    kind: str
    name: str
    service: str
    offset_s: float  # from T0
    duration_s: float | None  # None: still running (only a state marker exists)
    status: str
    steps: list[Step] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    error: str = ""
    retry_of: str = ""  # label of the first attempt
    attempt: int = 1


def llm(model: str, tin: int, tout: int, offset: float = 0.1, dur: float = 0.5, **extra: str) -> Step:
    return Step(f"chat {model}", offset, dur, {
        sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: model, sc.GEN_AI_RESPONSE_MODEL: model,
        sc.GEN_AI_PROVIDER_NAME: "openai", sc.GEN_AI_USAGE_INPUT_TOKENS: str(tin),
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: str(tout), sc.STEP_KIND: sc.StepKind.LLM, sc.STEP_STATUS: "Success",
        **extra})


def tool(name: str, offset: float = 0.2, dur: float = 0.3, error: str = "") -> Step:
    return Step(f"execute_tool {name}", offset, dur, {
        sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: name, sc.STEP_KIND: sc.StepKind.TOOL,
        sc.STEP_STATUS: "Failed" if error else "Success"}, error)


def step(name: str, offset: float, dur: float, kind: str = sc.StepKind.ACTION, status: str = "Success",
         error: str = "", **attrs: str) -> Step:
    return Step(name, offset, dur, {sc.STEP_KIND: kind, sc.STEP_STATUS: status, **attrs}, error)


def runs() -> list[Run]:
    crm = {sc.EVENT: "contact.updated", sc.TARGET: "Contact", sc.TRIGGERED_BY: "webhook"}
    return [
        # --- agents (service support-agents) --------------------------------------------------
        Run("A1", "agent", "triage-agent", AGENTS_SVC, 60, 2.0, "Success",
            [llm("gpt-4o", 100, 50), tool("search_kb")], {sc.REQUEST_ID: "REQ-A1"}),
        Run("A2", "agent", "triage-agent", AGENTS_SVC, 300, 4.0, "Failed",
            [llm("gpt-4o", 200, 100), tool("search_kb", error="search_kb timed out")],
            {sc.REQUEST_ID: "REQ-A2"}, error="tool search_kb timed out"),
        Run("A3", "agent", "research-agent", AGENTS_SVC, 900, 6.0, "Success",
            [llm("claude-sonnet-4", 1000, 500), llm("gpt-4o-mini", 300, 30, offset=2.0), tool("web_search"),
             tool("search_kb", offset=3.0),
             step("read notion page", 4.0, 0.4, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "notion"})],
            {sc.REQUEST_ID: "REQ-A3"}),
        # A4: failed first attempt, then a successful retry (attempt 2, its own trace).
        Run("A4", "agent", "research-agent", AGENTS_SVC, 1500, 3.0, "Failed",
            [llm("gpt-4o", 400, 40), tool("web_search", error="rate limited")],
            {sc.REQUEST_ID: "REQ-A4"}, error="web_search rate limited"),
        Run("A4b", "agent", "research-agent", AGENTS_SVC, 1800, 5.0, "Success",
            [llm("gpt-4o", 400, 80), tool("web_search")], {sc.REQUEST_ID: "REQ-A4"}, retry_of="A4", attempt=2),
        # A5: deprecated GenAI names (gen_ai.system, prompt/completion tokens), as older instrumentations write.
        Run("A5", "agent", "legacy-agent", AGENTS_SVC, 2400, 1.0, "Success",
            [Step("chat gpt-3.5-turbo", 0.1, 0.5, {
                sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_SYSTEM: "openai",
                sc.GEN_AI_REQUEST_MODEL: "gpt-3.5-turbo", sc.GEN_AI_USAGE_PROMPT_TOKENS: "10",
                sc.GEN_AI_USAGE_COMPLETION_TOKENS: "5"})], {sc.REQUEST_ID: "REQ-A5"}),
        # --- automations -----------------------------------------------------------------------
        Run("B1", "automation", "sync-crm", CRM_SVC, 120, 1.0, "Success",
            [step("webhook received", 0.0, 0.01, sc.StepKind.TRIGGER),
             step("fetch contact", 0.1, 0.3, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "salesforce"}),
             step("upsert contact", 0.5, 0.4, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "hubspot"})],
            {**crm, sc.TARGET_RECORD_ID: "REC-1", sc.REQUEST_ID: "REQ-B1"}),
        Run("B2", "automation", "sync-crm", CRM_SVC, 600, 2.0, "Partially Executed",
            [step("webhook received", 0.0, 0.01, sc.StepKind.TRIGGER),
             step("fetch contact", 0.1, 0.3, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "salesforce"}),
             step("update-record", 0.5, 0.7, status="Failed", error="validation failed: email is required"),
             step("notify", 1.3, 0.0, status="Skipped", **{sc.SKIP_REASON: "previous step failed"})],
            {**crm, sc.TARGET_RECORD_ID: "REC-42", sc.REQUEST_ID: "REQ-B2"}),
        Run("B3", "automation", "sync-crm", CRM_SVC, -3 * 86400, 3.0, "Failed",  # three days ago
            [step("update-record", 0.5, 2.0, status="Failed", error="CRM unavailable")],
            {**crm, sc.TARGET_RECORD_ID: "REC-42", sc.REQUEST_ID: "REQ-B3"}, error="CRM unavailable"),
        Run("B4", "automation", "invoice-run", BILLING_SVC, 1200, 10.0, "Rejected",
            [step("fetch-invoices", 0.1, 0.8, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "stripe"}),
             step("send-invoices", 1.0, 9.0, status="Failed", error="time budget exceeded")],
            {sc.TARGET_RECORD_ID: "INV-7", sc.REQUEST_ID: "REQ-B4", sc.TIMEOUT_MS: "10000"},
            error="ran past its time budget of 10 s"),
        Run("B5", "automation", "invoice-run", BILLING_SVC, 2000, 4.0, "Success",
            [step("fetch-invoices", 0.1, 0.8, sc.StepKind.CONNECTOR, **{sc.CONNECTOR: "stripe"}),
             step("send-invoices", 1.0, 2.5)],
            {sc.TARGET_RECORD_ID: "INV-8", sc.REQUEST_ID: "REQ-B5"}),
        Run("B6", "automation", "invoice-run", BILLING_SVC, 3000, None, "Running",
            [], {sc.REQUEST_ID: "REQ-B6"}),
        Run("B7", "automation", "sync-crm", CRM_SVC, 2500, 1.5, "Failed",
            [step("update-record", 0.2, 1.0, status="Failed", error="validation failed: owner missing")],
            {**crm, sc.TARGET_RECORD_ID: "REC-7", sc.REQUEST_ID: "REQ-B7"}, error="update-record failed"),
    ]


@dataclass
class Loaded:
    t0: datetime
    store: Store
    runs: dict[str, Run]

    def tid(self, label: str) -> str:
        return trace_id(label)

    def eid(self, label: str) -> str:
        """Execution id: the first attempt's trace id."""
        run = self.runs[label]
        return trace_id(run.retry_of or label)


def load(store: Store, now: datetime | None = None, only: set[str] | None = None) -> Loaded:
    """Store the spans of ``runs()`` (of the labels ``only``, when given: the others only give a retry its first
    attempt's start)."""
    t0 = anchor(now)
    t0_ns = int(t0.timestamp()) * S
    by_label = {r.label: r for r in runs()}
    cols = SpanColumns()
    for r in by_label.values():
        if only is not None and r.label not in only:
            continue
        tid = trace_id(r.label)
        root = span_id(r.label + "/root")
        start = t0_ns + int(r.offset_s * S)
        first = by_label[r.retry_of] if r.retry_of else r
        exec_start = t0_ns + int(first.offset_s * S)
        attrs = {sc.KIND: r.kind, sc.EXECUTION_NAME: r.name, sc.STATUS: r.status, **r.attrs,
                 sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT if r.kind == "agent" else sc.OP_INVOKE_WORKFLOW,
                 sc.INPUT: '{"q": "hello"}'}
        if r.kind == "agent":
            attrs[sc.GEN_AI_AGENT_NAME] = r.name
        if r.retry_of:
            attrs.update({sc.RETRY_OF: trace_id(r.retry_of), sc.ATTEMPT: str(r.attempt),
                          sc.EXECUTION_START: str(exec_start)})
        resource = {"service.name": r.service}
        common = dict(trace_id=tid, trace_state="", kind="Internal", service_name=r.service, resource=resource,
                      scope_name="execlog_otel", scope_version="0.1.0")
        if r.duration_s is None:
            # Live execution: only the state marker, the root span is still open.
            marker = {sc.MARKER: sc.MARKER_STATE, sc.STATUS: r.status, sc.KIND: r.kind, sc.EXECUTION_NAME: r.name,
                      sc.EXECUTION_START: str(start), "execlog.attempt.start_time_unix_nano": str(start), **r.attrs}
            cols.add(start_ns=start + S, end_ns=start + S, span_id=span_id(r.label + "/marker"),
                     parent_span_id=root, name=sc.STATE_SPAN_NAME, attributes=marker, status_code="Unset",
                     status_message="", **common)
            continue
        end = start + int(r.duration_s * S)
        cols.add(start_ns=start, end_ns=end, span_id=root, parent_span_id="", name=r.name, attributes=attrs,
                 status_code="Error" if r.error else "Ok", status_message=r.error, **common)
        for i, st in enumerate(r.steps):
            s0 = start + int(st.offset_s * S)
            cols.add(start_ns=s0, end_ns=s0 + int(st.duration_s * S), span_id=span_id(f"{r.label}/{i}"),
                     parent_span_id=root, name=st.name, attributes=dict(st.attrs),
                     status_code="Error" if st.error else "Unset", status_message=st.error, **common)
    store.insert_span_columns(cols.columns)
    return Loaded(t0, store, by_label)
