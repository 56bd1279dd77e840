"""Retry from the viewer: ``POST /api/executions/<id>/retry``, bulk preview and bulk retry.

State-changing requests need a CSRF token (``viewer.auth`` checks it for every route of the app
``create_app`` builds, and signs users in when authentication is configured): ``GET /api/retry/csrf``
returns it (and sets it as a SameSite=Strict, HttpOnly cookie); the request sends it back in
``X-CSRF-Token``. A page on another site can neither read the token nor send that header, so it
cannot trigger a retry. The rules live in ``retry.policy``, the calls to the runner in
``retry.dispatcher`` (built by ``create_app``).

Projects: an execution of a project the caller cannot see is not found (404); retrying needs the operator
role in its project (403 otherwise). Every retry request, accepted or refused, single or bulk, is written
to the retry audit (``store.audit``) with who asked, from where and why it was refused.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from execlog_otel.retry import policy
from execlog_otel.retry.dispatcher import Outcome
from execlog_otel.store import audit
from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import access, auth, params, presenters
from execlog_otel.viewer.errors import Forbidden, NotFound, not_found_message
from execlog_otel.viewer.people import OPERATOR
from execlog_otel.viewer.services import services

bp = Blueprint("retry_api", __name__, url_prefix="/api")

CSRF_HEADER = auth.CSRF_HEADER
MAX_BULK = 100


@bp.get("/retry/csrf")
def csrf_token():
    """The CSRF token for scripts (the same as ``GET /api/session``'s); viewer.auth sets the cookie."""
    return jsonify(token=auth.csrf_token(), header=CSRF_HEADER)


def _ids_from_body() -> list[str]:
    data: Any = request.get_json(silent=True)
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise QueryError('expected a JSON body {"ids": ["<execution id>", ...]}')
    if len(ids) > MAX_BULK:
        raise QueryError(f"ids: at most {MAX_BULK} executions at a time")
    return params.execution_ids(ids, MAX_BULK)


FORBIDDEN = "forbidden"


def _gate(ids: list[str]) -> tuple[dict[str, str], dict[str, Outcome]]:
    """The projects of the executions the caller may retry, and a refusal for each other one: not found
    (invisible or absent) or forbidden (seen, but not an operator there)."""
    projects = services().reads.projects_of(ids, access.scope())
    principal = auth.current_principal()
    refused: dict[str, Outcome] = {}
    for eid in ids:
        if eid not in projects:
            refused[eid] = Outcome(eid, 404, policy.NOT_FOUND, not_found_message(eid))
        elif not principal.may(projects[eid], OPERATOR):
            try:
                access.require(projects[eid], OPERATOR, principal)
            except Forbidden as exc:
                refused[eid] = Outcome(eid, 403, FORBIDDEN, str(exc))
    return projects, refused


def _audit(outcomes: list[Outcome], projects: dict[str, str], mode: str) -> None:
    principal = auth.current_principal()
    now = audit.now_ns()
    audit.record(services().store, [audit.AuditEntry(
        time_ns=now, execution_id=o.execution_id, project=projects.get(o.execution_id, ""), actor=principal.name,
        actor_kind=principal.kind, address=request.remote_addr or "", mode=mode, accepted=o.accepted, code=o.code,
        reason="" if o.code == audit.ACCEPTED else o.message, attempt=o.attempt or 0) for o in outcomes])


def _attempt_from_body() -> int | None:
    """The attempt the caller means to start (optional): what its Retry button offered."""
    data: Any = request.get_json(silent=True)
    return params.attempt_to_start(data.get("attempt") if isinstance(data, dict) else None)


@bp.get("/executions/<execution_id>/retry")
def retry_status(execution_id: str):
    """Whether the execution can be retried now, attempts left, and if not, why (the detail page's Retry).

    Reading never contacts the runner: a GET needs no CSRF token, so a page on another site (or a
    crafted link) must not be able to make the server send requests. The runner's own checks (known
    automation, unchanged trigger) answer with the retry itself, or with ``POST /api/retry/preview``."""
    eid = params.execution_id(execution_id)
    _, refused = _gate([eid])
    if eid in refused and refused[eid].code == policy.NOT_FOUND:
        raise NotFound(not_found_message(eid))
    decision = services().retry.decisions([eid], ask_runner=False)[0]
    if eid in refused:  # seen, not an operator: the Retry button says why
        decision = policy.Decision(eid, False, FORBIDDEN, refused[eid].message, decision.name, decision.status,
                                   decision.attempt, decision.max_attempts, decision.attempts_left)
    return jsonify(decision.to_json()), 404 if decision.code == "not_found" else 200


@bp.post("/executions/<execution_id>/retry")
def retry_execution(execution_id: str):
    eid = params.execution_id(execution_id)
    attempt = _attempt_from_body()
    projects, refused = _gate([eid])
    outcome = refused.get(eid) or services().retry.retry(eid, attempt)
    _audit([outcome], projects, audit.SINGLE)
    if outcome.code == policy.NOT_FOUND and eid in refused:
        raise NotFound(outcome.message)
    if outcome.code == FORBIDDEN:
        raise Forbidden(outcome.message)
    return jsonify(outcome.to_json()), outcome.http_status


@bp.post("/retry/preview")
def retry_preview():
    """Which of the selected executions a bulk retry would retry, and why not the others. Changes nothing.
    ``check_runner: false`` skips asking the runners (the listing's per-row Retry affordances)."""
    data: Any = request.get_json(silent=True)
    ask = not (isinstance(data, dict) and data.get("check_runner") is False)
    ids = _ids_from_body()
    _, refused = _gate(ids)
    allowed = [eid for eid in ids if eid not in refused]
    decided = dict(zip(allowed, services().retry.decisions(allowed, ask_runner=ask), strict=True)) if allowed else {}
    max_attempts = services().settings.max_attempts
    for eid, o in refused.items():
        decided[eid] = policy.decide(None, max_attempts, execution_id=eid) if o.code == policy.NOT_FOUND \
            else policy.Decision(eid, False, FORBIDDEN, o.message)
    decisions = [decided[eid] for eid in ids]
    items = [d.to_json() for d in decisions]
    return jsonify(items=items, will_retry=sum(1 for d in decisions if d.retryable),
                   will_not_retry=sum(1 for d in decisions if not d.retryable))


@bp.post("/retry/bulk")
def retry_bulk():
    ids = _ids_from_body()
    data: Any = request.get_json(silent=True)
    raw = data.get("attempts") if isinstance(data, dict) else None
    attempts: dict[str, int] = {}
    if raw is not None:
        if not isinstance(raw, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 2
                                                for v in raw.values()):
            raise QueryError('attempts: expected {"<execution id>": <attempt to start>, ...} '
                                     "(the preview's next_attempt values)")
        attempts = {params.execution_id(k): v for k, v in raw.items()}
    projects, refused = _gate(ids)
    allowed = [eid for eid in ids if eid not in refused]
    done = dict(zip(allowed, services().retry.bulk(allowed, attempts), strict=True)) if allowed else {}
    outcomes = [refused.get(eid) or done[eid] for eid in ids]
    _audit(outcomes, projects, audit.BULK)
    return jsonify(items=[o.to_json() for o in outcomes], accepted=sum(1 for o in outcomes if o.accepted),
                   refused=sum(1 for o in outcomes if not o.accepted))


@bp.get("/executions/<execution_id>/audit")
def execution_audit(execution_id: str):
    """Every retry request of one execution the caller sees, newest first (accepted or refused, with why)."""
    eid = params.execution_id(execution_id)
    scope = access.scope()
    if not services().reads.projects_of([eid], scope):
        raise NotFound(not_found_message(eid))
    rows = audit.entries(services().store, scope, eid, timeout_s=services().settings.query_timeout_s)
    return jsonify(items=[presenters.audit_entry(e) for e in rows])


@bp.get("/audit")
def audit_list():
    """Every retry request (admins), newest first; ``project`` narrows it to one project."""
    access.require_admin()
    rows = audit.entries(services().store, access.scope(), limit=audit.MAX_ROWS,
                         timeout_s=services().settings.query_timeout_s)
    return jsonify(items=[presenters.audit_entry(e) for e in rows])
