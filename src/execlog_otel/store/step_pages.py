"""The steps of a big execution, a page at a time: by position in the step tree (``outline``), or by the
subtree of one step, with a bounded overview (where the failed and the slowest steps are) and a search
that answers positions. Each request reads at most one page of spans, whatever the execution's size.

A finished attempt of more than STORE_STEPS steps is written once, in the background after its first
open, to ``execlog_step_pages`` (migration 033): its steps in tree order with their facts, so a page is a
range of rows instead of spans whose facts are derived again (planning that SQL costs more than reading a
page), and another process reads its outline back instead of building it.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
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
STORE_STEPS = 5_000  # finished attempts with more steps are kept in execlog_step_pages (the detail's MAX_STEPS)
# The write runs beside the requests of the page that caused it, and the embedded store runs one statement at
# a time: it starts once the first screen is answered, and goes in short INSERTs with pauses between them,
# so a page or a search waits at most one of them.
STORE_DELAY_S = 2.0
STORE_CHUNK = 4_000  # steps written by one INSERT
STORE_PAUSE_S = 0.05

log = logging.getLogger(__name__)


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
        self.store_enabled = True  # keep big finished attempts in execlog_step_pages
        self._lock = threading.Lock()
        self._kept: set[tuple[str, str]] = set()  # (trace id, version) fully written
        self._writing: dict[tuple[str, str], threading.Thread] = {}

    def outline(self, trace_id: str, version: tuple = (), finished: bool = False) -> Outline:
        """The trace's outline; ``version`` (its state) keys the cache, so a trace that grew or changed is
        read again. A ``finished`` attempt's outline is read back from execlog_step_pages when it was
        kept there, else built, and a big one is written there in the background."""
        key = (self.repo.store.database, trace_id, *version)
        found = self.cache.get(key)
        if found is not None:
            return found
        tag = "/".join(str(v) for v in version)
        keep = finished and bool(version) and self.store_enabled and not self.repo.store.sharded
        made = self._kept_outline(trace_id, tag) if keep else None
        if made is None:
            params: dict[str, Any] = {"id": trace_id, "marker_state": sc.MARKER_STATE}
            time_clause = self.repo.trace_time_clause(trace_id, params)
            sql = self.repo._sql("step_outline", time_clause=time_clause)
            cols = self.repo.store.pool.query(sql, parameters=params, settings=self.repo.settings).result_columns
            if not cols:
                cols = [[], [], [], [], [], []]
            made = outline_mod.build(*cols)
            if keep and len(made) > STORE_STEPS:
                self._keep_later(trace_id, tag, made)
        elif keep:
            with self._lock:
                self._kept.add((trace_id, tag))
        made = replace(made, has_logs=bool(self.repo.trace_logs(trace_id, limit=1)),
                       has_costs=self.repo.trace_has_costs(trace_id), version=tag if keep else "")
        if version:
            self.cache.put(key, made)
        return made

    # --- execlog_step_pages ----------------------------------------------------------------------
    def _kept_outline(self, trace_id: str, tag: str) -> Outline | None:
        """The outline kept in execlog_step_pages under ``tag``, when all of its steps are there."""
        try:
            cols = self.repo.store.pool.query(self.repo._sql("step_pages_outline"),
                                              parameters={"id": trace_id, "version": tag},
                                              settings=self.repo.settings).result_columns
        except Exception as e:  # a store without migration 033 (read-only, older): build it instead
            log.debug("execlog_step_pages unreadable: %s", e)
            return None
        if not cols or not cols[0] or len(cols[0]) != cols[7][0]:
            return None  # not kept, or still being written
        return outline_mod.from_rows(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[8][0])

    def _keep_later(self, trace_id: str, tag: str, o: Outline) -> None:
        """Write the attempt's steps to execlog_step_pages in a background thread (once per process)."""
        with self._lock:
            if (trace_id, tag) in self._kept or (trace_id, tag) in self._writing:
                return
            thread = threading.Thread(target=self._keep, args=(trace_id, tag, o), daemon=True,
                                      name=f"execlog-step-pages-{trace_id[:8]}")
            self._writing[(trace_id, tag)] = thread
        thread.start()

    def _keep(self, trace_id: str, tag: str, o: Outline) -> None:
        try:
            sql = self.repo._sql("step_pages_fill", trace_spans=self.repo.trace_spans_with_facts("ns"))
            n = len(o)
            time.sleep(STORE_DELAY_S)
            for first in range(0, n, STORE_CHUNK):
                if first:
                    time.sleep(STORE_PAUSE_S)
                last = min(n, first + STORE_CHUNK)
                starts = o.starts[first:last]
                self.repo.store.pool.command(sql, parameters={
                    "id": trace_id, "version": tag, "total": n, "first": first, "t0": o.t0,
                    "marker_state": sc.MARKER_STATE, "limit": 2**32 - 1,
                    "lo_ns": min(starts), "hi_ns": max(starts), "span_ids": o.span_ids[first:last],
                    "depths": list(o.depths[first:last]), "parents": list(o.parents[first:last]),
                    "sizes": list(o.sizes[first:last])},
                    settings={**self.repo.settings, "max_insert_block_size": 1_048_576,
                              "min_insert_block_size_rows": 1_048_576})
            with self._lock:
                self._kept.add((trace_id, tag))
        except Exception:  # pages keep reading the spans; the next process tries again
            log.warning("could not keep the steps of %s in execlog_step_pages", trace_id, exc_info=True)
        finally:
            with self._lock:
                self._writing.pop((trace_id, tag), None)

    def wait_kept(self, timeout_s: float = 60.0) -> None:
        """Wait for the background writes under way (tests, benchmarks, shutdown)."""
        with self._lock:
            threads = list(self._writing.values())
        for t in threads:
            t.join(timeout_s)

    def _is_kept(self, trace_id: str, o: Outline) -> bool:
        if not o.version:
            return False
        with self._lock:
            return (trace_id, o.version) in self._kept

    def steps_at(self, trace_id: str, o: Outline, positions: list[int], since_ns: int) -> list[Step]:
        """The steps at ``positions`` of the outline, with their payloads, logs and cost, in that order."""
        if not positions:
            return []
        ids = [o.span_ids[p] for p in positions]
        starts = [o.starts[p] for p in positions]
        if self._is_kept(trace_id, o):
            return self._kept_steps(trace_id, o, positions, ids, min(starts), max(starts), since_ns)
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

    def _kept_steps(self, trace_id: str, o: Outline, positions: list[int], ids: list[str], lo_ns: int,
                    hi_ns: int, since_ns: int) -> list[Step]:
        """The steps at ``positions`` read from execlog_step_pages (one narrow read by key)."""
        rows = self.repo._rows("step_pages_rows", {"id": trace_id, "version": o.version, "positions": positions,
                                                   "lo_ns": lo_ns, "hi_ns": hi_ns})
        by_pos = {int(r["Position"]): r for r in rows}
        logs = self.repo.trace_logs(trace_id, span_ids=ids, between_s=(lo_ns // 10**9, hi_ns // 10**9)
                                    ) if o.has_logs else {}
        step_costs = self.repo.step_costs(trace_id, since_ns, span_ids=ids) if o.has_costs else {}
        out = []
        for p, sid in zip(positions, ids, strict=True):
            row = by_pos.get(p)
            if row is None:  # gone (retention): leave it out
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
        # The parent is read with its page (one read): it is the position just before the subtree.
        steps = self.steps_at(trace_id, o, [first - 1, *positions] if parent_span_id else positions, since_ns)
        parent = None
        if parent_span_id and steps and steps[0].position == first - 1:
            parent, steps = steps[0], steps[1:]
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
