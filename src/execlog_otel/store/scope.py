"""Which projects a read may see: the one project filter every repository query takes.

``viewer.access`` makes it from the caller's roles and the request's ``project`` parameter; the
repository turns it into a bound condition on the ``Project`` column of the derived tables (never a
string from the request in SQL). ``ALL_PROJECTS`` is what the CLI, the retry listener and a viewer
without authentication read with.
"""

from __future__ import annotations

from dataclasses import dataclass

# The condition on a table with a Project column; {projects:Array(String)} is bound by ``bind``.
CONDITION = "Project IN {projects:Array(String)}"


@dataclass(frozen=True)
class ProjectScope:
    """``projects``: the projects visible (None: every project, present and future)."""

    projects: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.projects is None

    def allows(self, project: str) -> bool:
        return self.projects is None or project in self.projects

    def only(self, project: str) -> ProjectScope:
        """This scope narrowed to one project (the caller checked ``allows`` first)."""
        return ProjectScope(frozenset({project}))

    def condition(self, params: dict[str, object]) -> str | None:
        """The WHERE condition of this scope (None: no condition), binding its value into ``params``."""
        if self.projects is None:
            return None
        params["projects"] = sorted(self.projects)
        return CONDITION


ALL_PROJECTS = ProjectScope()
