"""The retry audit: every retry request made through the viewer or API, accepted or refused.

Rows live in ``execlog_retry_audit`` (migration 017, the spans' retention), written by ``viewer.retry_api``
after each decision and read for an execution's audit list, an attempt's *Triggered By* and
``GET /api/audit``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from execlog_otel.store import sqlfiles
from execlog_otel.store.scope import ProjectScope
from execlog_otel.store.store import Store

TABLE = "execlog_retry_audit"
COLUMNS = ["Time", "ExecutionId", "Project", "Actor", "ActorKind", "Address", "Mode", "Accepted", "Code",
           "Reason", "Attempt"]
SINGLE, BULK = "single", "bulk"
ACCEPTED = "accepted"  # the outcome code of a request that started its attempt
MAX_ROWS = 500


@dataclass(frozen=True)
class AuditEntry:
    time_ns: int
    execution_id: str
    project: str
    actor: str  # the signed-in user or the token's name
    actor_kind: str  # user | token
    address: str  # the client's address
    mode: str  # single | bulk
    accepted: bool
    code: str  # the outcome's code (accepted, already_started, forbidden, not_found, limit_reached, ...)
    reason: str
    attempt: int = 0  # the attempt started (0 when refused)


def record(store: Store, entries: list[AuditEntry]) -> None:
    """Write ``entries`` (one insert)."""
    if not entries:
        return
    rows = [[datetime.fromtimestamp(e.time_ns / 1e9, tz=UTC) for e in entries],
            [e.execution_id for e in entries], [e.project for e in entries], [e.actor for e in entries],
            [e.actor_kind for e in entries], [e.address for e in entries], [e.mode for e in entries],
            [int(e.accepted) for e in entries], [e.code for e in entries], [e.reason for e in entries],
            [e.attempt or 0 for e in entries]]
    store.insert_columns(TABLE, COLUMNS, rows)


def now_ns() -> int:
    return time.time_ns()


def _entry(r: dict[str, Any]) -> AuditEntry:
    return AuditEntry(time_ns=int(r["TimeNs"]), execution_id=r["ExecutionId"], project=r["Project"],
                      actor=r["Actor"], actor_kind=r["ActorKind"], address=r["Address"], mode=r["Mode"],
                      accepted=bool(r["Accepted"]), code=r["Code"], reason=r["Reason"], attempt=int(r["Attempt"]))


def entries(store: Store, scope: ProjectScope, execution_id: str | None = None, limit: int = MAX_ROWS,
            timeout_s: float = 10.0) -> list[AuditEntry]:
    """Audit rows, newest first: of one execution, or (``execution_id`` None) of every execution in ``scope``."""
    params: dict[str, Any] = {"limit": limit}
    conds = []
    if execution_id is not None:
        conds.append("ExecutionId = {id:String}")
        params["id"] = execution_id
    project = scope.condition(params)
    if project:
        conds.append(project)
    where = sqlfiles.Fragment(f"WHERE {' AND '.join(conds)}" if conds else "")
    sql = sqlfiles.statement("read/audit", database=store.database, where=where)
    return [_entry(r) for r in store.pool.query(sql, parameters=params,
                                                settings={"max_execution_time": timeout_s or 10}).named_results()]


def triggered_by(rows: list[AuditEntry]) -> dict[int, AuditEntry]:
    """Attempt number -> the accepted request that started it (the first, when several asked at once)."""
    out: dict[int, AuditEntry] = {}
    for e in sorted(rows, key=lambda e: e.time_ns):
        if e.code == ACCEPTED and e.attempt and e.attempt not in out:
            out[e.attempt] = e
    return out
