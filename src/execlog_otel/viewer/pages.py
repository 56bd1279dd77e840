"""HTML pages of the viewer: the executions listing, the execution detail and Insights.

The pages are shells: their scripts (``static/``) fetch everything they show from
``/api/``, so the API and the pages never disagree. Templates only render values
the server controls (settings, the validated execution id), autoescaped.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from execlog_otel import semconv as sc
from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import access, errors, params
from execlog_otel.viewer.services import services

# Templates and static files are the app's own (``viewer/templates``, ``viewer/static`` at /static).
bp = Blueprint("pages", __name__)


def _page_context() -> dict[str, Any]:
    access.scope()  # a project the caller cannot see is not found, as in the API
    settings = services().settings
    return {"base_url": settings.base_url.rstrip("/"), "statuses": [s.value for s in sc.Status],
            "live_statuses": ",".join(s.value for s in sc.LIVE_STATUSES)}


@bp.get("/")
@bp.get("/executions")
def listing():
    return render_template("listing.html", **_page_context())


@bp.get("/projects")
def projects():
    """The projects landing page: each project the caller sees with its executions, failures and cost."""
    return render_template("projects.html", **_page_context())


@bp.get("/insights")
def insights():
    """Charts over the executions the listing's filters select (data: /api/insights/<chart>)."""
    return render_template("insights.html", **_page_context())


@bp.get("/agents/<path:name>")
def agent_executions(name: str):
    """An agent's own Executions tab: the listing scoped to it."""
    return redirect(url_for("pages.listing", kind=sc.Kind.AGENT.value, name=name))


@bp.get("/automations/<path:name>")
def automation_executions(name: str):
    return redirect(url_for("pages.listing", kind=sc.Kind.AUTOMATION.value, name=name))


@bp.get("/executions/<execution_id>")
def detail(execution_id: str):
    try:
        eid = params.execution_id(execution_id)
    except QueryError as exc:
        abort(404, description=str(exc))
    if eid != execution_id:
        # One permalink per execution: lowercase id.
        return redirect(url_for("pages.detail", execution_id=eid, **request.args.to_dict(flat=True)), 301)
    if services().reads.execution(eid, access.scope()) is None:
        # Not an empty page frame: a 404 page that says so.
        raise errors.NotFound(errors.not_found_message(eid))
    return render_template("detail.html", execution_id=eid, **_page_context())
