"""Request values -> typed values: one parser per parameter, shared by every view that takes it.

A value that cannot be used raises ``QueryError`` naming the parameter and what it expects
(answered with 400 by ``viewer.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from execlog_otel.store.errors import QueryError
from execlog_otel.store.filters import DEFAULT_PAGE, KINDS, MAX_IDS, STATUSES, ListFilter, check_execution_id
from execlog_otel.store.rows import MAX_DATETIME64_NS
from execlog_otel.store.scope import ProjectScope
from execlog_otel.viewer.presenters import decode_cursor

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ATTEMPT = 1000


class Args(Protocol):
    """A query string: werkzeug's MultiDict, or any mapping with ``getlist``."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


def text(args: Mapping[str, Any], key: str) -> str | None:
    """A text parameter, stripped; None when absent or blank."""
    v = args.get(key)
    return v.strip() if isinstance(v, str) and v.strip() else None


def time_ns(value: str | int | float | None, name: str) -> int | None:
    """ISO-8601 (``Z`` or offset; naive means UTC) or epoch milliseconds -> ns."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"[0-9]{1,16}", value)):
        ns = int(value) * 1_000_000
    elif isinstance(value, float):
        ns = round(value * 1_000_000)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"{name}={value!r}: expected an ISO-8601 time or epoch milliseconds") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        # Integer arithmetic: a float timestamp loses the microseconds an ISO time carries, which
        # would move a bound past the very execution whose start it was copied from.
        ns = (dt - _EPOCH) // timedelta(microseconds=1) * 1_000
    if not 0 <= ns <= MAX_DATETIME64_NS:  # past it the bound wraps in ClickHouse's Int64: the filter inverts
        raise QueryError(f"{name}={value!r}: expected a time from 1970-01-01 to 2262-04-11")
    return ns


def kind(raw: str | None) -> str | None:
    """``kind``: agent, automation, other; ``all`` or nothing means every kind."""
    value = (raw or "").strip() or None
    if value in ("all", None):
        return None
    if value not in KINDS:
        raise QueryError(f"kind={value!r}: expected one of all, {', '.join(sorted(KINDS))}")
    return value


def statuses(raw: list[str]) -> tuple[str, ...]:
    """``status``: repeated and/or comma-separated, any case, ``_`` for a space."""
    out: list[str] = []
    for item in raw:
        for s in (item or "").split(","):
            s = s.strip()
            if not s:
                continue
            match = next((v for v in STATUSES if v.lower() == s.lower().replace("_", " ")), None)
            if match is None:
                raise QueryError(f"status={s!r}: expected one of {', '.join(sorted(STATUSES))}")
            out.append(match)
    return tuple(out)


def whole_number(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name}={raw!r}: expected a whole number") from None


def list_filter(args: Args, scope: ProjectScope) -> ListFilter:
    """The listing's filters (``/api/executions``, ``/neighbors``, ``/facets``, Insights), within ``scope``: the
    projects the request may read (views pass ``viewer.access.scope()``; parsing reads no request state)."""
    cursor = text(args, "cursor")
    limit = whole_number(text(args, "limit"), "limit")
    return ListFilter(
        kind=kind(text(args, "kind")), status=statuses(args.getlist("status")), name=text(args, "name"),
        q=text(args, "q"), service=text(args, "service"), from_ns=time_ns(text(args, "from"), "from"),
        to_ns=time_ns(text(args, "to"), "to"), limit=DEFAULT_PAGE if limit is None else limit,
        cursor=decode_cursor(cursor) if cursor else None, sort=text(args, "sort") or "started_at",
        order=(text(args, "order") or "desc").lower(), cost_above=usd(text(args, "cost_above"), "cost_above"),
        scope=scope)


def usd(raw: str | None, name: str) -> float | None:
    """An amount of US dollars (``cost_above``)."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(f"{name}={raw!r}: expected a number of US dollars") from None
    if value != value or value < 0:
        raise QueryError(f"{name}={raw!r}: expected a number of US dollars >= 0")
    return value


def execution_id(raw: str) -> str:
    return check_execution_id(raw)


def execution_ids(raw: list[str], limit: int = MAX_IDS) -> list[str]:
    """Execution ids, in order, each once; at most ``limit``."""
    ids = list(dict.fromkeys(check_execution_id(p) for p in raw if p.strip()))
    if len(ids) > limit:
        raise QueryError(f"ids: at most {limit} execution ids per request")
    return ids


def id_list(raw: str | None) -> list[str]:
    """A comma-separated list of execution ids (the listing polls its live rows with it)."""
    return execution_ids((raw or "").split(","))


def attempt(args: Args) -> int | None:
    """``?attempt=N``: show (or download) this attempt instead of the latest."""
    raw = text(args, "attempt")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError(f"attempt={raw!r}: expected a whole number")
    return int(raw)


def attempt_to_start(value: Any) -> int | None:
    """A retry request's ``attempt`` (JSON): the attempt the caller means to start, what its button offered."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= MAX_ATTEMPT:
        raise QueryError("attempt: expected the number of the attempt to start (2 or more)")
    return value


def flag(args: Args, name: str, default: bool = True) -> bool:
    """``true`` / ``false``."""
    raw = (text(args, name) or str(default)).lower()
    if raw not in ("true", "false"):
        raise QueryError(f"{name}={raw!r}: expected true or false")
    return raw == "true"
