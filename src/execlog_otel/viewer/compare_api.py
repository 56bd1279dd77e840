"""Compare: ``GET /api/compare?a=<id>&b=<id>`` (``a_attempt`` / ``b_attempt`` pick attempts) answers the
diff as JSON; ``GET /compare`` is the page that shows it side by side."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from execlog_otel import semconv as sc
from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import access, params, presenters
from execlog_otel.viewer import compare as compare_mod
from execlog_otel.viewer.errors import NotFound, not_found_message
from execlog_otel.viewer.services import services

bp = Blueprint("compare", __name__)


def _attempt(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise QueryError(f"{name}={raw!r}: expected an attempt number (1, 2, …)")
    return int(raw)


def _execution_id(side: str) -> str:
    raw = request.args.get(side)
    if not raw:
        raise QueryError(f"{side}: missing; compare needs ?a=<execution id>&b=<execution id> "
                         f"(and a_attempt / b_attempt to pick attempts)")
    return params.execution_id(raw)


def _details() -> tuple[dict, dict]:
    """Both sides' details; two attempts of one execution read that execution once."""
    reads, scope = services().reads, access.scope()
    a_id, b_id = _execution_id("a"), _execution_id("b")
    shown_a = reads.shown(a_id, _attempt("a_attempt"), scope=scope)
    if shown_a is None:
        raise NotFound(not_found_message(a_id))
    shown_b = reads.another_attempt(shown_a, _attempt("b_attempt")) if b_id == a_id else \
        reads.shown(b_id, _attempt("b_attempt"), scope=scope)
    if shown_b is None:
        raise NotFound(not_found_message(b_id))
    # Compare does not show the steps' log records: not read.
    a = reads.detail(a_id, scope=scope, step_logs=False, shown=shown_a)
    b = reads.detail(b_id, scope=scope, step_logs=False, shown=shown_b)
    return presenters.detail(a), presenters.detail(b)


@bp.get("/api/compare")
def compare_json():
    a, b = _details()
    if (a["kind"], a["name"]) != (b["kind"], b["name"]):
        raise QueryError(f"compare two executions of the same agent or automation: a is {a['kind']} {a['name']!r}, "
                         f"b is {b['kind']} {b['name']!r}")
    return jsonify(compare_mod.compare(a, b))


@bp.get("/compare")
def compare_page():
    settings = services().settings
    return render_template("compare.html", base_url=settings.base_url.rstrip("/"),
                           live_statuses=",".join(s.value for s in sc.LIVE_STATUSES))
