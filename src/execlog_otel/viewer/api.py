"""JSON API under ``/api/``: parse the parameters (``params``), read the model (``store.repository``),
present it (``presenters``). Errors are answered by ``viewer.errors``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any

import yaml
from flask import Blueprint, current_app, jsonify, request

from execlog_otel import semconv as sc
from execlog_otel.store.filters import MAX_PAGE
from execlog_otel.store.repository import COUNT_CAP, MAX_STEPS
from execlog_otel.store.step_pages import DEFAULT_PAGE_STEPS
from execlog_otel.viewer import access, auth, params, presenters
from execlog_otel.viewer.errors import NotFound, not_found_message
from execlog_otel.viewer.services import services

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/executions")
def list_executions():
    reads = services().reads
    if "ids" in request.args:
        # The listing polls its live rows by id to update them in place.
        items = reads.by_ids(params.id_list(request.args.get("ids")), access.scope())
        return jsonify(items=[presenters.execution(e) for e in items])
    return jsonify(presenters.page(reads.page(params.list_filter(request.args, access.scope()))))


@bp.get("/executions/<execution_id>/neighbors")
def execution_neighbors(execution_id: str):
    """Previous / next execution in the order of the listing described by the query string."""
    f = params.list_filter(request.args, access.scope())
    return jsonify(presenters.neighbors(services().reads.neighbors(f, params.execution_id(execution_id))))


@bp.get("/facets")
def facets():
    """Executions per status under the listing's other filters (same parameters as /api/executions)."""
    f = params.list_filter(request.args, access.scope())
    return jsonify(presenters.status_counts(services().reads.status_counts(f)))


@bp.get("/totals")
def totals():
    """Executions, failed, tokens and cost (all attempts) under the listing's filters (its parameters)."""
    return jsonify(presenters.totals(services().reads.totals(params.list_filter(request.args, access.scope()))))


@bp.get("/names")
def execution_names():
    kind = params.kind(request.args.get("kind"))
    return jsonify(presenters.names(services().reads.names(kind, access.scope())))


@bp.get("/projects")
def projects():
    """The projects the caller sees, with executions, failures and cost over the last 24 h and 7 days."""
    principal = auth.current_principal()
    items = services().reads.projects(access.scope())
    return jsonify(items=[presenters.project(p, principal.role(p.name)) for p in items],
                   all_projects=principal.sees_all)


@bp.get("/info")
def info():
    s = services()
    try:
        pkg_version = version("execlog-otel")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        pkg_version = "unknown"
    return jsonify(version=pkg_version, statuses=[st.value for st in sc.Status],
                   live_statuses=[st.value for st in sc.LIVE_STATUSES], kinds=[k.value for k in sc.Kind],
                   count_cap=COUNT_CAP, max_page=MAX_PAGE, max_steps=MAX_STEPS,
                   retention_days=s.settings.retention_days, base_url=s.settings.base_url,
                   receiver=s.sink is not None)


def openapi_text() -> str:
    return files("execlog_otel.viewer").joinpath("openapi.yaml").read_text(encoding="utf-8")


@bp.get("/openapi.yaml")
def openapi_yaml():
    return current_app.response_class(openapi_text(), mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(yaml.safe_load(openapi_text()))


@bp.get("/executions/<execution_id>")
def get_execution(execution_id: str):
    eid = params.execution_id(execution_id)
    attempt = params.attempt(request.args)
    reads = services().reads
    scope = access.scope()
    if not params.flag(request.args, "steps") and attempt is None:
        summary = reads.summary(eid, scope)
        if summary is None:
            raise NotFound(not_found_message(execution_id))
        return jsonify(presenters.summary(summary))
    # An attempt of more than MAX_STEPS steps answers its first page; /steps serves the others.
    detail = reads.detail(eid, attempt, scope, page_size=DEFAULT_PAGE_STEPS)
    if detail is None:
        raise NotFound(not_found_message(execution_id))
    return jsonify(presenters.detail(detail))


@bp.get("/health")
def health() -> Any:
    return jsonify(status="ok")
