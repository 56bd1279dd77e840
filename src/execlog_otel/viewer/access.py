"""Project scoping of every page and API route, in one place.

``scope()`` is the project filter of the request: the projects its caller may see (``viewer.people``),
narrowed to the ``project`` query parameter when given. Every repository read takes it, so an
execution of a project the caller cannot see is simply not found (404, the same answer as an id that
does not exist: no project name or execution leaks). ``require()`` checks a role in the project of an
execution the caller can see (403 with a message: a viewer cannot retry or download code).
"""

from __future__ import annotations

from flask import request

from execlog_otel.store.scope import ProjectScope
from execlog_otel.viewer.auth import current_principal
from execlog_otel.viewer.errors import Forbidden, NotFound
from execlog_otel.viewer.people import ADMIN, OPERATOR, Principal

PARAM = "project"
ALL = ("", "*", "all")  # ?project= values meaning every project the caller may see

_DOES = {OPERATOR: "retry executions or download their code", ADMIN: "do this"}


def no_project_message(project: str) -> str:
    return f"no project {project!r} in this store"


def requested_project() -> str | None:
    raw = (request.args.get(PARAM) or "").strip()
    return None if raw in ALL else raw


def scope() -> ProjectScope:
    """The projects this request reads: the caller's, narrowed to ``?project=`` (404 when not theirs)."""
    principal = current_principal()
    mine = principal.scope
    project = requested_project()
    if project is None:
        return mine
    if not mine.allows(project):
        raise NotFound(no_project_message(project))
    return mine.only(project)


def require(project: str, role: str, principal: Principal | None = None) -> None:
    """Forbidden unless the caller holds ``role`` in ``project`` (one they can see: checked by the read)."""
    principal = principal or current_principal()
    if not principal.may(project, role):
        held = principal.role(project) or "no"
        raise Forbidden(f"your role in project {project!r} is {held}: only an {role} or admin may "
                        f"{_DOES.get(role, 'do this')}")


def require_admin() -> None:
    """Forbidden unless the caller is an admin (routes that read across every project: SQL, the audit)."""
    principal = current_principal()
    if not principal.admin:
        raise Forbidden("only an admin may do this: it reads every project")
