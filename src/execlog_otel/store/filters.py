"""What a listing asks for, as typed values (``viewer.params`` parses them from a request).

Each field applies when set; ``FIELD_CONDITIONS`` says which bound condition it becomes in
``sql/read/*.sql``. Nothing here reads a request or builds SQL from a request string.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from execlog_otel import semconv as sc
from execlog_otel.store.errors import QueryError
from execlog_otel.store.model import Cursor
from execlog_otel.store.scope import ALL_PROJECTS, ProjectScope

MAX_PAGE = 200
DEFAULT_PAGE = 50
MAX_SEARCH = 200
MAX_IDS = MAX_PAGE
SORTS = ("started_at", "duration", "cost")
ORDERS = ("desc", "asc")
KINDS = frozenset(k.value for k in sc.Kind)
STATUSES = frozenset(s.value for s in sc.Status)

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def is_hex_id(text: str) -> bool:
    return bool(_HEX32.match(text))


def check_execution_id(execution_id: str) -> str:
    """An execution id as stored: 32 lowercase hexadecimal characters."""
    eid = (execution_id or "").strip().lower()
    if not _HEX32.match(eid):
        raise QueryError(f"{execution_id!r} is not an execution id (32 hexadecimal characters)")
    return eid


@dataclass(frozen=True)
class ListFilter:
    kind: str | None = None
    status: tuple[str, ...] = ()
    name: str | None = None
    q: str | None = None
    service: str | None = None
    from_ns: int | None = None
    to_ns: int | None = None
    limit: int = DEFAULT_PAGE
    cursor: Cursor | None = None
    sort: str = "started_at"
    order: str = "desc"
    cost_above: float | None = None  # US dollars, over every attempt
    scope: ProjectScope = ALL_PROJECTS  # the projects the caller may see (and asked for)

    def __post_init__(self) -> None:
        # The rules every caller gets, whatever parsed the values.
        if self.kind is not None and self.kind not in KINDS:
            raise QueryError(f"kind={self.kind!r}: expected one of all, {', '.join(sorted(KINDS))}")
        if not 1 <= self.limit <= MAX_PAGE:
            raise QueryError(f"limit={self.limit}: must be between 1 and {MAX_PAGE}")
        if self.sort not in SORTS:
            raise QueryError(f"sort={self.sort!r}: expected started_at, duration or cost")
        if self.cost_above is not None and not 0 <= self.cost_above < 1e9:
            raise QueryError(f"cost_above={self.cost_above!r}: expected a number of US dollars >= 0")
        if self.order not in ORDERS:
            raise QueryError(f"order={self.order!r}: expected asc or desc")
        if self.q and len(self.q) > MAX_SEARCH:
            raise QueryError(f"q: search text is limited to {MAX_SEARCH} characters")
        if self.from_ns is not None and self.to_ns is not None and self.from_ns > self.to_ns:
            raise QueryError("from is later than to")

    @property
    def desc(self) -> bool:
        return self.order == "desc"

    @property
    def by_start(self) -> bool:
        return self.sort == "started_at"

    def without_status(self) -> ListFilter:
        """The same filter for every status (the status menu's counts)."""
        return ListFilter(kind=self.kind, name=self.name, q=self.q, service=self.service, from_ns=self.from_ns,
                          to_ns=self.to_ns, cost_above=self.cost_above, scope=self.scope)


# ListFilter field -> (bound parameter, condition): each applies when the field is set.
FIELD_CONDITIONS = (
    ("from_ns", "from_ns", "Start >= fromUnixTimestamp64Nano({from_ns:Int64})"),
    ("to_ns", "to_ns", "Start <= fromUnixTimestamp64Nano({to_ns:Int64})"),
    ("kind", "kind", "Kind = {kind:String}"),
    ("status", "statuses", "Status IN {statuses:Array(String)}"),
    ("name", "name", "Name = {name:String}"),
    ("service", "service", "ServiceName = {service:String}"),
)
# Search: ids are 32 lowercase hex characters, so other texts cannot equal one and those columns (the
# widest) are not read for them.
SEARCH_IDS = "ExecutionId = lower({q:String}) OR TraceId = lower({q:String}) OR "
# The other fields are searched as one text with LIKE '%…%' (case-insensitive: both sides lowerUTF8), the
# form the search index of migration 024 serves; the text's % _ \\ are escaped so they match themselves.
SEARCH_TEXT = "{fact.execution_search_text} LIKE lowerUTF8({q_like:String})"


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcard characters taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# USD per execution over every attempt ({execution_costs}: sql/read/execution_costs.sql, in nano-dollars).
COST_ABOVE = "ExecutionId IN (SELECT ExecutionId FROM ({execution_costs}) WHERE CostNano > {cost_above_nano:Int64})"


# Full-text search of payloads, opt-in: ``in:payload`` in the search text also matches executions any of
# whose spans (the root or a step, any attempt) has the text in its input or output, over the listing's
# time range or else the last PAYLOAD_DAYS days (a scan of those days' span facts: sql/read/payload_matches.sql).
# The repository reads the matching ids once per listing request and binds them (PAYLOAD_IDS: the bloom
# filter on ExecutionId serves it, beside the search text's index); past PAYLOAD_MAX_IDS matches the
# condition is the query itself (PAYLOAD_QUERY), evaluated by each statement.
PAYLOAD_FLAG = "in:payload"
PAYLOAD_DAYS = 7
PAYLOAD_MAX_IDS = 10_000
PAYLOAD_IDS = "ExecutionId IN {payload_ids:Array(String)}"
PAYLOAD_QUERY = "ExecutionId IN ({payload_matches})"


@dataclass(frozen=True)
class PayloadSearch:
    """The payload search of a listing: its text and span time range, and the matching executions once read
    (``ids``: None when there were more than PAYLOAD_MAX_IDS, so the condition is the query itself)."""

    q: str
    from_ns: int
    to_ns: int
    ids: tuple[str, ...] | None = None

    @classmethod
    def of(cls, f: ListFilter) -> PayloadSearch | None:
        """The payload search ``f`` asks for (``in:payload`` and a text), else None."""
        q, in_payload = split_payload_flag(f.q) if f.q else ("", False)
        if not (q and in_payload):
            return None
        now = time.time_ns()
        return cls(q, f.from_ns if f.from_ns is not None else now - PAYLOAD_DAYS * 86_400 * 10**9,
                   f.to_ns if f.to_ns is not None else now + 86_400 * 10**9)

    @property
    def params(self) -> dict[str, object]:
        return {"q": self.q, "p_from": self.from_ns, "p_to": self.to_ns}

    def condition(self, params: dict[str, object]) -> str | None:
        """The listing's condition (binding its values into ``params``); None when no execution matched."""
        if self.ids is None:
            params.update(self.params)
            return PAYLOAD_QUERY
        if not self.ids:
            return None
        params["payload_ids"] = list(self.ids)
        return PAYLOAD_IDS


def split_payload_flag(q: str) -> tuple[str, bool]:
    """The search text without ``in:payload``, and whether it was there."""
    words = q.split()
    if PAYLOAD_FLAG not in words:
        return q, False
    return " ".join(w for w in words if w != PAYLOAD_FLAG), True


def conditions(f: ListFilter, params: dict[str, object], payload: PayloadSearch | None = None) -> list[str]:
    """The WHERE conditions of ``f`` (fixed texts), binding their values into ``params``; ``payload``: its
    payload search with the matching ids read (``Repository``), when it asks for one."""
    where = []
    project = f.scope.condition(params)
    if project:
        where.append(project)
    for attr, param, condition in FIELD_CONDITIONS:
        value = getattr(f, attr)
        if value is not None and value != "" and value != () and value != []:
            where.append(condition)
            params[param] = list(value) if isinstance(value, tuple) else value
    q, in_payload = split_payload_flag(f.q) if f.q else ("", False)
    if q:
        ids = SEARCH_IDS if is_hex_id(q.lower()) else ""
        # A payload search whose ids were not read beforehand has the query itself as its condition.
        payload = (payload or PayloadSearch.of(f)) if in_payload else None
        payload_condition = payload.condition(params) if payload is not None else None
        or_payload = f" OR {payload_condition}" if payload_condition else ""
        where.append(f"({ids}{SEARCH_TEXT}{or_payload})")
        params["q"] = q
        params["q_like"] = like_pattern(q)
    if f.cost_above is not None:
        where.append(COST_ABOVE)
        params.update(cost_above_nano=round(f.cost_above * 1e9), cost_since=f.from_ns or 0)
    return where
