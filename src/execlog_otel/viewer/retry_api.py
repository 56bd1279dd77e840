"""Retry from the viewer: ``POST /api/executions/<id>/retry``, bulk preview and bulk retry.

State-changing requests need a CSRF token (``viewer.auth`` checks it for every route of the app
``create_app`` builds, and signs users in when authentication is configured): ``GET /api/retry/csrf``
returns it (and sets it as a SameSite=Strict, HttpOnly cookie); the request sends it back in
``X-CSRF-Token``. A page on another site can neither read the token nor send that header, so it
cannot trigger a retry. The rules live in ``retry.policy``, the calls to the runner in
``retry.dispatcher`` (built by ``create_app``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import auth, params
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
    decision = services().retry.decisions([eid], ask_runner=False)[0]
    return jsonify(decision.to_json()), 404 if decision.code == "not_found" else 200


@bp.post("/executions/<execution_id>/retry")
def retry_execution(execution_id: str):
    eid = params.execution_id(execution_id)
    outcome = services().retry.retry(eid, _attempt_from_body())
    return jsonify(outcome.to_json()), outcome.http_status


@bp.post("/retry/preview")
def retry_preview():
    """Which of the selected executions a bulk retry would retry, and why not the others. Changes nothing.
    ``check_runner: false`` skips asking the runners (the listing's per-row Retry affordances)."""
    data: Any = request.get_json(silent=True)
    ask = not (isinstance(data, dict) and data.get("check_runner") is False)
    decisions = services().retry.decisions(_ids_from_body(), ask_runner=ask)
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
    outcomes = services().retry.bulk(ids, attempts)
    return jsonify(items=[o.to_json() for o in outcomes], accepted=sum(1 for o in outcomes if o.accepted),
                   refused=sum(1 for o in outcomes if not o.accepted))
