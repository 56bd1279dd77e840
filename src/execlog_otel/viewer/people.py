"""Who may do what: users, API tokens and ingest tokens, each with a role per project.

``EXECLOG_AUTH_FILE`` is a TOML file (documented in README, "Projects and roles")::

    [users.alice]
    password = "scrypt:32768:8:1$..."        # from `execlog hash-password`
    projects = { checkout = "operator", search = "viewer" }

    [users.root]
    password = "scrypt:..."
    admin = true                              # every role in every project

    [tokens.ci]                               # Authorization: Bearer <token>
    sha256 = "<hex of sha256(token)>"         # or token = "<the token itself>"
    projects = { checkout = "viewer" }

    [ingest_tokens.checkout-runners]          # the OTLP receiver's tokens
    sha256 = "..."
    project = "checkout"                      # spans sent with it are stored in this project

Roles: *viewer* reads, *operator* reads, retries and downloads code, *admin* does everything in every
project (``admin = true``). ``"*"`` as a project name gives a role in every project. The users of
``EXECLOG_AUTH_USERS`` and ``EXECLOG_AUTH_TOKEN`` are admins; ``EXECLOG_INGEST_TOKEN`` is an ingest token
bound to no project. Tokens are compared by their SHA-256 digest, so the file need not hold them.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execlog_otel.store.scope import ALL_PROJECTS, ProjectScope

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)  # each includes what the ones before it may do
EVERY_PROJECT = "*"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PROJECT = re.compile(r"^[^\x00-\x1f]{1,200}$")


class PeopleFileError(ValueError):
    pass


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """A signed-in user or an API token: its name, and its role per project."""

    name: str
    kind: str = "user"  # user | token
    admin: bool = False
    roles: dict[str, str] = field(default_factory=dict)  # project (or "*") -> role

    def role(self, project: str) -> str | None:
        if self.admin:
            return ADMIN
        return self.roles.get(project) or self.roles.get(EVERY_PROJECT)

    def may(self, project: str, role: str) -> bool:
        """Whether this principal holds ``role`` (or a higher one) in ``project``."""
        held = self.role(project)
        return held is not None and ROLES.index(held) >= ROLES.index(role)

    @property
    def scope(self) -> ProjectScope:
        """The projects this principal may see."""
        if self.admin or EVERY_PROJECT in self.roles:
            return ALL_PROJECTS
        return ProjectScope(frozenset(self.roles))

    @property
    def sees_all(self) -> bool:
        return self.scope.everything


# Who acts when authentication is off: the viewer is on loopback (or explicitly open) and anyone reaching it
# may do everything, as before projects existed.
NOBODY = Principal("anonymous", "user", admin=True)


@dataclass(frozen=True)
class IngestToken:
    name: str
    project: str | None  # None: the spans keep the project they claim


@dataclass
class People:
    """Everyone from EXECLOG_AUTH_FILE, EXECLOG_AUTH_USERS and the single tokens of the settings."""

    passwords: dict[str, str] = field(default_factory=dict)  # user -> password hash
    users: dict[str, Principal] = field(default_factory=dict)
    tokens: dict[str, Principal] = field(default_factory=dict)  # sha256 of the token -> principal
    ingest: dict[str, IngestToken] = field(default_factory=dict)  # sha256 of the token -> ingest token

    def token(self, given: str) -> Principal | None:
        return self.tokens.get(token_digest(given)) if given else None

    def ingest_token(self, given: str) -> IngestToken | None:
        return self.ingest.get(token_digest(given)) if given else None

    @property
    def ingest_required(self) -> bool:
        return bool(self.ingest)


def _roles(where: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PeopleFileError(f"{where}.projects: expected a table of project = role")
    out = {}
    for project, role in raw.items():
        if not _PROJECT.match(str(project)):
            raise PeopleFileError(f"{where}.projects: {project!r} is not a project name")
        if role not in ROLES:
            raise PeopleFileError(f"{where}.projects.{project}: role {role!r}: expected one of {', '.join(ROLES)}")
        out[str(project)] = role
    return out


def _digest(where: str, entry: dict[str, Any]) -> str:
    if isinstance(entry.get("sha256"), str) and _HEX64.match(entry["sha256"].lower()):
        return entry["sha256"].lower()
    if isinstance(entry.get("token"), str) and len(entry["token"]) >= 16:
        return token_digest(entry["token"])
    raise PeopleFileError(f"{where}: expected sha256 = \"<64 hex characters>\" or token = \"<at least 16 "
                          "characters>\"")


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise PeopleFileError(f"[{key}.<name>]: expected one table per entry")
    return value


def parse(text: str) -> People:
    """The people of an auth file's text; PeopleFileError naming the entry that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PeopleFileError(f"not valid TOML: {exc}") from None
    unknown = set(data) - {"users", "tokens", "ingest_tokens"}
    if unknown:
        raise PeopleFileError(f"unknown section(s) {', '.join(sorted(unknown))}: expected users, tokens, "
                              "ingest_tokens")
    people = People()
    for name, entry in _table(data, "users").items():
        where = f"users.{name}"
        if not isinstance(entry.get("password"), str) or ":" not in entry["password"]:
            raise PeopleFileError(f"{where}.password: expected a hash from `execlog hash-password`")
        people.passwords[name] = entry["password"]
        people.users[name] = Principal(name, "user", bool(entry.get("admin")), _roles(where, entry.get("projects")))
    for name, entry in _table(data, "tokens").items():
        where = f"tokens.{name}"
        people.tokens[_digest(where, entry)] = Principal(name, "token", bool(entry.get("admin")),
                                                         _roles(where, entry.get("projects")))
    for name, entry in _table(data, "ingest_tokens").items():
        where = f"ingest_tokens.{name}"
        project = entry.get("project")
        if project is not None and (not isinstance(project, str) or not _PROJECT.match(project)):
            raise PeopleFileError(f"{where}.project: expected a project name")
        people.ingest[_digest(where, entry)] = IngestToken(name, project)
    return people


def load(auth_file: str, auth_users: dict[str, str], auth_token: str, ingest_token: str) -> People:
    """Everyone who may sign in, call the API or send spans, from the file and the single-value settings."""
    people = People()
    if auth_file:
        path = Path(auth_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PeopleFileError(f"EXECLOG_AUTH_FILE={auth_file}: {exc.strerror or exc}") from None
        try:
            people = parse(text)
        except PeopleFileError as exc:
            raise PeopleFileError(f"EXECLOG_AUTH_FILE={auth_file}: {exc}") from None
    for name, hashed in auth_users.items():  # EXECLOG_AUTH_USERS: admins, as before projects existed
        people.passwords[name] = hashed
        people.users[name] = Principal(name, "user", admin=True)
    if auth_token:
        people.tokens[token_digest(auth_token)] = Principal("token", "token", admin=True)
    if ingest_token:
        people.ingest[token_digest(ingest_token)] = IngestToken("ingest", None)
    return people
