"""Retry from the viewer: ``POST /api/executions/<id>/retry``, bulk preview and bulk retry.

State-changing requests need a CSRF token (``viewer.auth`` checks it for every route, and
signs users in when authentication is configured): ``GET /api/retry/csrf`` returns it (and sets
it as a SameSite=Strict, HttpOnly cookie); the request sends it back in ``X-CSRF-Token``. A page
on another site can neither read the token nor send that header, so it cannot trigger a retry.
When an app is built without ``viewer.auth``, the views check the token themselves.
The rules live in ``retry.policy``, the calls to the runner in ``retry.dispatcher``.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from execlog_otel.retry.dispatcher import RetryDispatcher
from execlog_otel.store import queries
from execlog_otel.viewer import auth

bp = Blueprint("retry_api", __name__, url_prefix="/api")

CSRF_COOKIE = auth.CSRF_COOKIE
CSRF_HEADER = auth.CSRF_HEADER
MAX_BULK = 100


def dispatcher() -> RetryDispatcher:
    ext = current_app.extensions
    if "execlog_retry" not in ext:
        ext["execlog_retry"] = RetryDispatcher(ext["execlog_store"], current_app.config["EXECLOG_SETTINGS"])
    return ext["execlog_retry"]


@bp.errorhandler(queries.QueryError)
def bad_query(exc: queries.QueryError):
    return jsonify(code="bad_request", error=str(exc)), 400


def _csrf_ok() -> bool:
    if auth.bp.name in current_app.blueprints:
        return True  # viewer.auth checked it before the view (and exempts bearer-token clients)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    return len(cookie) >= 32 and bool(header) and hmac.compare_digest(cookie.encode(), header.encode())


def _csrf_refusal():
    return jsonify(code="csrf", error=f"missing or wrong CSRF token: GET /api/retry/csrf and send the token in "
                                      f"the {CSRF_HEADER} header"), 403


@bp.get("/retry/csrf")
def csrf_token():
    """The CSRF token for scripts (the same as ``GET /api/session``'s); viewer.auth sets the cookie."""
    token = auth.csrf_token()
    resp = jsonify(token=token, header=CSRF_HEADER)
    if auth.bp.name not in current_app.blueprints and request.cookies.get(CSRF_COOKIE) != token:
        resp.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure, path="/")
    return resp


def _ids_from_body() -> list[str]:
    data: Any = request.get_json(silent=True)
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise queries.QueryError('expected a JSON body {"ids": ["<execution id>", ...]}')
    if len(ids) > MAX_BULK:
        raise queries.QueryError(f"ids: at most {MAX_BULK} executions at a time")
    return list(dict.fromkeys(queries.check_execution_id(i) for i in ids))


def _attempt_from_body() -> int | None:
    """The attempt the caller means to start (optional): what its Retry button offered."""
    data: Any = request.get_json(silent=True)
    attempt = data.get("attempt") if isinstance(data, dict) else None
    if attempt is None:
        return None
    if not isinstance(attempt, int) or isinstance(attempt, bool) or not 2 <= attempt <= 1000:
        raise queries.QueryError("attempt: expected the number of the attempt to start (2 or more)")
    return attempt


@bp.get("/executions/<execution_id>/retry")
def retry_status(execution_id: str):
    """Whether the execution can be retried now, attempts left, and if not, why (the detail page's Retry)."""
    eid = queries.check_execution_id(execution_id)
    ask = (request.args.get("check_runner") or "true").lower() != "false"
    decision = dispatcher().decisions([eid], ask_runner=ask)[0]
    return jsonify(decision.to_json()), 404 if decision.code == "not_found" else 200


@bp.post("/executions/<execution_id>/retry")
def retry_execution(execution_id: str):
    if not _csrf_ok():
        return _csrf_refusal()
    eid = queries.check_execution_id(execution_id)
    outcome = dispatcher().retry(eid, _attempt_from_body())
    return jsonify(outcome.to_json()), outcome.http_status


@bp.post("/retry/preview")
def retry_preview():
    """Which of the selected executions a bulk retry would retry, and why not the others. Changes nothing.
    ``check_runner: false`` skips asking the runners (the listing's per-row Retry affordances)."""
    if not _csrf_ok():
        return _csrf_refusal()
    data: Any = request.get_json(silent=True)
    ask = not (isinstance(data, dict) and data.get("check_runner") is False)
    decisions = dispatcher().decisions(_ids_from_body(), ask_runner=ask)
    items = [d.to_json() for d in decisions]
    return jsonify(items=items, will_retry=sum(1 for d in decisions if d.retryable),
                   will_not_retry=sum(1 for d in decisions if not d.retryable))


@bp.post("/retry/bulk")
def retry_bulk():
    if not _csrf_ok():
        return _csrf_refusal()
    ids = _ids_from_body()
    data: Any = request.get_json(silent=True)
    raw = data.get("attempts") if isinstance(data, dict) else None
    attempts: dict[str, int] = {}
    if raw is not None:
        if not isinstance(raw, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 2
                                                for v in raw.values()):
            raise queries.QueryError('attempts: expected {"<execution id>": <attempt to start>, ...} '
                                     "(the preview's next_attempt values)")
        attempts = {queries.check_execution_id(k): v for k, v in raw.items()}
    outcomes = dispatcher().bulk(ids, attempts)
    return jsonify(items=[o.to_json() for o in outcomes], accepted=sum(1 for o in outcomes if o.accepted),
                   refused=sum(1 for o in outcomes if not o.accepted))
