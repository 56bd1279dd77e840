"""The steps of a big execution, a page at a time: by position in the step tree (``outline``), or by the
subtree of one step, with a bounded overview (where the failed and the slowest steps are) and a search
that answers positions. Each request reads at most one page of spans, whatever the execution's size.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from execlog_otel import semconv as sc
from execlog_otel.store import outline as outline_mod
from execlog_otel.store import records
from execlog_otel.store.errors import QueryError
from execlog_otel.store.model import Step

if TYPE_CHECKING:
    from execlog_otel.store.outline import Outline
    from execlog_otel.store.repository import Repository

MAX_PAGE_STEPS = 500  # steps one request answers at most
DEFAULT_PAGE_STEPS = 200
OVERVIEW_FAILED = 200  # failed steps the overview lists (it counts them all)
OVERVIEW_SLOWEST = 10
OVERVIEW_BUCKETS = 200  # failures per stretch of the run, for a density strip
MAX_MATCHES = 1_000  # search positions one request answers at most
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class StepPage:
    steps: tuple[Step, ...]
    offset: int  # of the first step, in the range asked (the whole tree, or the subtree)
    total: int  # steps in that range
    parent: Step | None = None  # the step whose subtree this is


@dataclass(frozen=True)
class Overview:
    total: int
    failed_total: int
    failed: tuple[Step, ...]  # the first OVERVIEW_FAILED, with positions
    slowest: tuple[Step, ...]  # longest first, with positions
    failed_buckets: tuple[int, ...]  # failed steps per equal stretch of positions


@dataclass(frozen=True)
class Matches:
    positions: tuple[int, ...]
    span_ids: tuple[str, ...]
    capped: bool  # more steps match than MAX_MATCHES


class StepPages:
    """Reads of a trace's steps by position, over the repository's connection and bounds."""

    def __init__(self, repo: Repository, cache: outline_mod.OutlineCache | None = None):
        self.repo = repo
        self.cache = cache or outline_mod.OutlineCache()

    def outline(self, trace_id: str, version: tuple = ()) -> Outline:
        """The trace's outline; ``version`` (its step and failure counts) keys the cache, so a trace that
        grew or changed is read again."""
        key = (self.repo.store.database, trace_id, *version)
        found = self.cache.get(key)
        if found is not None:
            return found
        params: dict[str, Any] = {"id": trace_id, "marker_state": sc.MARKER_STATE}
        time_clause = self.repo.trace_time_clause(trace_id, params)
        sql = self.repo._sql("step_outline", time_clause=time_clause)
        cols = self.repo.store.pool.query(sql, parameters=params, settings=self.repo.settings).result_columns
        if not cols:
            cols = [[], [], [], [], [], []]
        made = replace(outline_mod.build(*cols), has_logs=bool(self.repo.trace_logs(trace_id, limit=1)),
                       has_costs=self.repo.trace_has_costs(trace_id))
        if version:
            self.cache.put(key, made)
        return made

    def steps_at(self, trace_id: str, o: Outline, positions: list[int], since_ns: int) -> list[Step]:
        """The steps at ``positions`` of the outline, with their payloads, logs and cost, in that order."""
        if not positions:
            return []
        ids = [o.span_ids[p] for p in positions]
        starts = [o.starts[p] for p in positions]
        rows = self.repo.trace_spans(trace_id, limit=len(ids) + 1, span_ids=ids,
                                     between_ns=(min(starts), max(starts)))
        by_id = {r["SpanId"]: r for r in rows}
        logs = self.repo.trace_logs(trace_id, span_ids=ids, between_s=(min(starts) // 10**9, max(starts) // 10**9)
                                    ) if o.has_logs else {}
        step_costs = self.repo.step_costs(trace_id, since_ns, span_ids=ids) if o.has_costs else {}
        out = []
        for p, sid in zip(positions, ids, strict=True):
            row = by_id.get(sid)
            if row is None:  # gone since the outline was read (retention): leave it out
                continue
            out.append(records.step(row, o.t0, o.depths[p], tuple(logs.get(sid, ())), step_costs.get(sid), p,
                                    o.sizes[p]))
        return out

    def page(self, trace_id: str, o: Outline, since_ns: int, offset: int, limit: int,
             parent_span_id: str | None = None) -> StepPage:
        """``limit`` steps from ``offset``: of the whole tree, or of the subtree under ``parent_span_id``."""
        limit = max(1, min(limit, MAX_PAGE_STEPS))
        offset = max(0, offset)
        if parent_span_id:
            at = o.index.get(parent_span_id)
            if at is None:
                raise QueryError(f"parent={parent_span_id!r}: no such step in this attempt")
            first, total = at + 1, o.sizes[at]
        else:
            first, total = 0, len(o)
        positions = list(range(first + offset, first + min(total, offset + limit)))
        steps = self.steps_at(trace_id, o, positions, since_ns)
        parent = None
        if parent_span_id:
            found = self.steps_at(trace_id, o, [first - 1], since_ns)
            parent = found[0] if found else None
        return StepPage(steps=tuple(steps), offset=offset, total=total, parent=parent)

    def overview(self, trace_id: str, o: Outline, since_ns: int) -> Overview:
        """Where the failed and the slowest steps are, bounded whatever the number of steps."""
        n = len(o)
        slowest = heapq.nlargest(OVERVIEW_SLOWEST, range(n), key=lambda p: (o.durations[p], -p))
        listed_failed = list(o.failed[:OVERVIEW_FAILED])
        wanted = sorted(set(listed_failed) | set(slowest))
        by_pos = {s.position: s for s in self.steps_at(trace_id, o, wanted, since_ns)}
        buckets = [0] * min(OVERVIEW_BUCKETS, max(n, 1))
        for p in o.failed:
            buckets[p * len(buckets) // max(n, 1)] += 1
        return Overview(total=n, failed_total=len(o.failed),
                        failed=tuple(by_pos[p] for p in listed_failed if p in by_pos),
                        slowest=tuple(by_pos[p] for p in slowest if p in by_pos), failed_buckets=tuple(buckets))

    def search(self, trace_id: str, o: Outline, text: str) -> Matches:
        """Positions of the steps whose name, kind, tool, connector, model, status, error or payload text
        contains ``text`` (case-insensitive), in order, at most MAX_MATCHES."""
        text = text.strip()
        if not text:
            return Matches((), (), False)
        if len(text) > MAX_QUERY_CHARS:
            raise QueryError(f"q: at most {MAX_QUERY_CHARS} characters")
        params: dict[str, Any] = {"id": trace_id, "q": text, "limit": MAX_MATCHES + 1}
        time_clause = self.repo.trace_time_clause(trace_id, params)
        ids = [r[0] for r in self.repo._tuples("step_search", params, time_clause=time_clause)]
        capped = len(ids) > MAX_MATCHES
        positions = sorted(p for p in (o.index.get(i) for i in ids) if p is not None)[:MAX_MATCHES]
        return Matches(tuple(positions), tuple(o.span_ids[p] for p in positions), capped)
