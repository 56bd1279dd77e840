"""The steps of one execution by page, for executions too big to answer at once (the detail page's
virtualised waterfall reads them as it scrolls):

- ``GET /api/executions/<id>/steps?offset=&limit=`` — steps in depth-first order (``position``), or with
  ``parent=<span id>`` the steps under that one (offset within its subtree);
- ``GET /api/executions/<id>/steps/overview`` — how many steps, where the failed and slowest are;
- ``GET /api/executions/<id>/steps/search?q=`` — positions of the steps matching a text.

Every answer is bounded (``store.step_pages``); ``attempt=N`` picks an attempt as on the detail.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from execlog_otel.store.errors import QueryError
from execlog_otel.store.repository import Shown
from execlog_otel.store.step_pages import DEFAULT_PAGE_STEPS, MAX_PAGE_STEPS
from execlog_otel.viewer import access, params, presenters
from execlog_otel.viewer.errors import NotFound, not_found_message
from execlog_otel.viewer.services import services

bp = Blueprint("steps", __name__, url_prefix="/api/executions/<execution_id>/steps")


def _shown(execution_id: str) -> Shown:
    shown = services().reads.shown(params.execution_id(execution_id), params.attempt(request.args),
                                   with_costs=False, scope=access.scope(), light=True)
    if shown is None:
        raise NotFound(not_found_message(execution_id))
    return shown


def _count(name: str, default: int, most: int | None = None) -> int:
    raw = params.text(request.args, name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or (most is not None and not 1 <= int(raw) <= most):
        bound = f"a whole number from 1 to {most}" if most is not None else "a whole number"
        raise QueryError(f"{name}={raw!r}: expected {bound}")
    return int(raw)


@bp.get("")
def steps(execution_id: str):
    s = _shown(execution_id)
    reads = services().reads
    parent = params.text(request.args, "parent")
    if parent is not None and (len(parent) > 32 or any(c not in "0123456789abcdef" for c in parent.lower())):
        raise QueryError(f"parent={parent!r}: expected a span id (hex)")
    page = reads.pages.page(s.trace_id, reads.outline(s), s.current.start_ns, _count("offset", 0),
                            _count("limit", DEFAULT_PAGE_STEPS, MAX_PAGE_STEPS), parent.lower() if parent else None)
    return jsonify(presenters.step_page(page, s))


@bp.get("/overview")
def overview(execution_id: str):
    s = _shown(execution_id)
    reads = services().reads
    return jsonify(presenters.step_overview(reads.pages.overview(s.trace_id, reads.outline(s), s.current.start_ns)))


@bp.get("/search")
def search(execution_id: str):
    s = _shown(execution_id)
    reads = services().reads
    found = reads.pages.search(s.trace_id, reads.outline(s), request.args.get("q") or "")
    return jsonify(presenters.step_matches(found, request.args.get("q") or ""))
