"""Read model -> the API's JSON (``openapi.yaml`` describes it; ``tests/test_openapi.py`` checks it).

Times become ISO-8601 UTC strings (``Z``), durations milliseconds, cursors opaque strings.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from execlog_otel.store.audit import AuditEntry
from execlog_otel.store.errors import QueryError
from execlog_otel.store.model import (
    Attempt,
    CodeLocation,
    Cost,
    Cursor,
    Execution,
    ExecutionDetail,
    ExecutionSummary,
    Head,
    NameCount,
    Neighbor,
    Neighbors,
    Page,
    Payload,
    ProblemStep,
    ProjectSummary,
    StatusCounts,
    Step,
    Totals,
)
from execlog_otel.store.step_pages import Matches, Overview, StepPage

JSON = dict[str, Any]
_EPOCH = datetime(1970, 1, 1)  # naive UTC: isoformat() then has no offset to replace (a third faster)


def iso(ns: int) -> str | None:
    """ns since the epoch -> ISO-8601 UTC, truncated to the microsecond (never rounded up, so a
    ``from`` bound copied from it still includes the execution it came from)."""
    if not ns:
        return None
    return (_EPOCH + timedelta(microseconds=ns // 1_000)).isoformat(timespec="microseconds") + "Z"


def ms(ns: int) -> float:
    return round(ns / 1e6, 3)


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.value, cursor.execution_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, eid = json.loads(raw)
        if type(value) is not int or not isinstance(eid, str) or len(eid) > 64:
            raise ValueError
        return Cursor(value, eid)
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise QueryError(f"cursor={text!r} is not a cursor this server issued") from None


def payload(p: Payload | None) -> JSON | None:
    if p is None:
        return None
    out: JSON = {"value": p.value}
    if p.truncated:
        out["truncated"] = True
        out["original_size"] = p.original_size
    return out


def code(c: CodeLocation) -> JSON:
    return {"function": c.function, "file": c.file, "line": c.line, "source": c.source}


def execution(e: Execution) -> JSON:
    """An execution as the listing shows it (``ExecutionSummary`` in openapi.yaml)."""
    r = e.rollup
    return {
        "id": e.id, "trace_id": e.trace_id, "name": e.name, "kind": e.kind, "status": e.status,
        "status_message": e.status_message, "started_at": iso(e.start_ns),
        "attempt_started_at": iso(e.attempt_start_ns),
        "ended_at": iso(e.attempt_end_ns) if e.attempt_end_ns else None,
        "duration_ms": ms(e.duration_ns), "live": e.live, "attempt": e.attempt, "max_attempts": e.max_attempts,
        "steps": r.steps, "failed_steps": r.failed_steps, "skipped_steps": r.skipped_steps,
        "input_tokens": r.input_tokens, "output_tokens": r.output_tokens, "total_tokens": r.total_tokens,
        "models": list(r.models), "tools": list(r.tools), "connectors": list(r.connectors),
        "service": e.service, "project": e.project, "event": e.event, "target": e.target,
        "target_record_id": e.target_record_id,
        "request_id": e.request_id, "triggered_by": e.triggered_by, "retryable": e.retryable,
        "not_retryable_reason": e.not_retryable_reason, "trigger_fingerprint": e.trigger_fingerprint,
        "retry_target": e.retry_target, "retry_url": e.retry_url,
        "cost_usd": e.cost.usd, "cost": cost(e.cost),
    }


def cost(c: Cost | None) -> JSON | None:
    if c is None:
        return None
    out: JSON = {"usd": c.usd, "unpriced_steps": c.unpriced_steps, "reported_usd": c.reported_usd,
                 "input_tokens": c.input_tokens, "cache_read_tokens": c.cache_read_tokens,
                 "cache_write_tokens": c.cache_write_tokens, "output_tokens": c.output_tokens,
                 "reasoning_tokens": c.reasoning_tokens, "total_tokens": c.total_tokens}
    if c.model or c.priced_as:
        out.update(model=c.model, priced_as=c.priced_as)
    return out


def chart(d: Any) -> JSON:
    """An Insights chart's data (``store.insights.ChartData``; ``InsightsData`` in openapi.yaml)."""
    return {"chart": d.chart.id, "title": d.chart.title, "from": iso(d.from_ns), "to": iso(d.to_ns),
            "bucket_seconds": d.bucket_s, "columns": list(d.columns), "rows": [list(r) for r in d.rows]}


def totals(t: Totals) -> JSON:
    return {"executions": t.executions, "failed": t.failed, "tokens": t.tokens, "cost_usd": t.cost_usd,
            "unpriced_steps": t.unpriced_steps}


def page(p: Page) -> JSON:
    return {"items": [execution(e) for e in p.items],
            "next_cursor": encode_cursor(p.next_cursor) if p.next_cursor else None,
            "count": p.count, "count_capped": p.count_capped}


def attempt(a: Attempt) -> JSON:
    return {"trace_id": a.trace_id, "attempt": a.attempt, "started_at": iso(a.start_ns),
            "duration_ms": ms(a.duration_ns), "status": a.status, "cost_usd": a.cost.usd, "cost": cost(a.cost),
            "triggered_by": a.triggered_by}


def project(p: ProjectSummary, role: str | None) -> JSON:
    """A project on the landing page (``Project`` in openapi.yaml), with the caller's role in it."""
    return {"name": p.name, "role": role, "last_started_at": iso(p.last_start_ns) if p.last_start_ns else None,
            "executions_24h": p.executions_24h, "failed_24h": p.failed_24h, "cost_24h_usd": p.cost_24h_usd,
            "executions_7d": p.executions_7d, "failed_7d": p.failed_7d, "cost_7d_usd": p.cost_7d_usd}


def audit_entry(e: AuditEntry) -> JSON:
    """A retry request as the audit list shows it (``AuditEntry`` in openapi.yaml)."""
    return {"at": iso(e.time_ns), "execution_id": e.execution_id, "project": e.project, "actor": e.actor,
            "actor_kind": e.actor_kind, "address": e.address, "mode": e.mode, "accepted": e.accepted,
            "code": e.code, "reason": e.reason, "attempt": e.attempt or None}


def step(s: Step) -> JSON:
    out = {
        "span_id": s.span_id, "parent_span_id": s.parent_span_id, "depth": s.depth, "name": s.name,
        "span_name": s.span_name, "kind": s.kind, "status": s.status, "error": s.error, "skip_reason": s.skip_reason,
        "started_at": iso(s.start_ns), "offset_ms": ms(s.offset_ns), "duration_ms": ms(s.duration_ns),
        "model": s.model, "input_tokens": s.input_tokens, "output_tokens": s.output_tokens,
        "total_tokens": s.total_tokens, "tool": s.tool, "connector": s.connector, "input": payload(s.input),
        "output": payload(s.output), "code": code(s.code), "attributes": s.attributes,
        "events": [{"time": iso(ev.time_ns), "name": ev.name, "attributes": ev.attributes} for ev in s.events],
        "service": s.service, "cost_usd": s.cost.usd if s.cost else None, "cost": cost(s.cost),
        "logs": [{"time": iso(lg.time_ns), "severity": lg.severity_text, "severity_number": lg.severity_number,
                  "body": lg.body, "event_name": lg.event_name, "attributes": lg.attributes} for lg in s.logs],
    }
    if s.position >= 0:  # read by page: where it is in the step tree, and how many steps it folds
        out.update(position=s.position, descendants=s.descendants)
    return out


def _head(h: Head) -> JSON:
    return {"input": payload(h.input), "output": payload(h.output), "trigger": h.trigger,
            "validation_message": h.validation_message, "raised_action": h.raised_action,
            "executed_action_ids": list(h.executed_action_ids)}


def detail(d: ExecutionDetail) -> JSON:
    """The detail page's execution (``ExecutionDetail``); Download Code builds its file from it too."""
    out = execution(d.execution)
    h = d.head
    out.update(_head(h), attempts=[attempt(a) for a in d.attempts], max_attempts=h.max_attempts,
               shown_attempt=d.execution.attempt, trigger_payload=payload(h.trigger_payload),
               conversation_id=h.conversation_id, code=code(h.code), attributes=h.attributes, resource=h.resource,
               steps=[step(s) for s in d.steps], steps_truncated=d.steps_truncated,
               execution_time_ms=out["duration_ms"], attempt_cost=cost(d.attempt_cost),
               steps_paged=d.steps_paged,
               steps_total=d.steps_total if d.steps_total is not None else len(d.steps))
    return out


def step_page(p: StepPage, shown: Any) -> JSON:
    """A page of steps (``StepPage`` in openapi.yaml)."""
    return {"trace_id": shown.trace_id, "offset": p.offset, "total": p.total,
            "parent": step(p.parent) if p.parent else None, "items": [step(s) for s in p.steps]}


def _mark(s: Step) -> JSON:
    return {"position": s.position, "span_id": s.span_id, "name": s.name, "status": s.status, "error": s.error,
            "duration_ms": ms(s.duration_ns), "offset_ms": ms(s.offset_ns)}


def step_overview(o: Overview) -> JSON:
    """Where the failed and slowest steps of a big execution are (``StepOverview``)."""
    return {"total": o.total, "failed_total": o.failed_total, "failed": [_mark(s) for s in o.failed],
            "slowest": [_mark(s) for s in o.slowest], "failed_buckets": list(o.failed_buckets)}


def step_matches(m: Matches, query: str) -> JSON:
    """Positions of the steps matching a search (``StepMatches``)."""
    return {"query": query.strip(), "positions": list(m.positions), "span_ids": list(m.span_ids),
            "capped": m.capped}


def problem_step(p: ProblemStep) -> JSON:
    return {"name": p.name, "status": p.status, "detail": p.detail, "started_at": iso(p.start_ns)}


def summary(s: ExecutionSummary) -> JSON:
    """Quick View (``?steps=false``): the header, input and output, and the failed and skipped steps."""
    out = execution(s.execution)
    out.update(_head(s.head), execution_time_ms=out["duration_ms"],
               problem_steps=[problem_step(p) for p in s.problem_steps])
    return out


def _neighbor(n: Neighbor | None) -> JSON | None:
    return {"id": n.id, "name": n.name} if n else None


def neighbors(n: Neighbors) -> JSON:
    return {"prev": _neighbor(n.prev), "next": _neighbor(n.next)}


def names(items: list[NameCount]) -> JSON:
    return {"items": [{"name": n.name, "kind": n.kind, "executions": n.executions,
                       "last_started_at": iso(n.last_start_ns)} for n in items]}


def status_counts(c: StatusCounts) -> JSON:
    return {"status": c.counts, "capped": c.capped}
