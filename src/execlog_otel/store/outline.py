"""A trace's step tree as positions, so a page of a big execution's steps is a range of them.

The outline is the tree ``records.step_tree`` builds, without the steps' contents: span ids in
depth-first order (children by start, then span id; orphans at the top level after the root's
subtree), each step's depth, parent position and number of descendants — a node's subtree is the
contiguous range after it — and the start, duration and whether it failed (the overview's facts).
It is built from a light read of the trace (ids, times, status) and kept in a bounded in-process
cache, keyed by what invalidates it: the trace and its number of steps.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from execlog_otel import semconv as sc
from execlog_otel.store.lru import SharedLRU

CACHE_POSITIONS = 2_000_000  # steps kept over every cached outline (about 100 bytes each)


@dataclass(frozen=True)
class Outline:
    span_ids: list[str]  # depth-first order
    depths: array  # per position
    parents: array  # the parent's position, -1 at the top level
    sizes: array  # descendants of the step at each position
    starts: array  # ns since the epoch
    durations: array  # ns
    failed: tuple[int, ...]  # positions of the failed steps, in order
    t0: int  # the attempt's start (the root's, else the earliest span's)
    index: dict[str, int]  # span id -> position
    has_logs: bool = True  # whether the trace has OTLP log records (else a page skips reading them)
    has_costs: bool = True  # whether any step has a cost row (else a page skips reading them)
    version: str = ""  # the finished state it was read in, when it is kept in execlog_step_pages (else "")

    def __len__(self) -> int:
        return len(self.span_ids)


def _group(span_ids: Sequence[str], parent_ids: Sequence[str], markers: Sequence[int]
           ) -> tuple[int, dict[str, list[int]]]:
    """(index of the root or -1, parent span id -> child indexes in row order), markers left out."""
    root = -1
    children: dict[str, list[int]] = {}
    for i, pid in enumerate(parent_ids):
        if markers[i]:
            continue
        if not pid and root < 0:
            root = i
        elif pid in children:
            children[pid].append(i)  # already in (start, span id) order
        else:
            children[pid] = [i]
    return root, children


def _depth_first(span_ids: Sequence[str], children: dict[str, list[int]], tops: list[str],
                 unique: bool) -> tuple[list[int], list[int], list[int]]:
    """(row indexes, depths, parent positions) in depth-first order under each of ``tops``, iteratively (a
    100,000-step chain must not hit the recursion limit). With ``unique`` span ids no span can be reached
    twice (a cycle is never reachable from a span without a parent), so only duplicates need a seen-set."""
    order: list[int] = []
    depths: list[int] = []
    parents: list[int] = []
    seen: set[str] | None = None if unique else set()
    get = children.get
    for top in tops:
        stack = [(get(top, []), 0, 0, -1)]
        while stack:
            kids, at, depth, parent_pos = stack.pop()
            n = len(kids)
            while at < n:
                i = kids[at]
                at += 1
                sid = span_ids[i]
                if seen is not None:
                    if sid in seen:
                        continue
                    seen.add(sid)
                pos = len(order)
                order.append(i)
                depths.append(depth)
                parents.append(parent_pos)
                grand = get(sid)
                if grand:
                    stack.append((kids, at, depth, parent_pos))
                    kids, at, depth, parent_pos, n = grand, 0, depth + 1, pos, len(grand)
    return order, depths, parents


def build(span_ids: Sequence[str], parent_ids: Sequence[str], starts: Sequence[int], durations: Sequence[int],
          statuses: Sequence[str], skipped: Sequence[int]) -> Outline:
    """The outline of a trace's spans, given as columns sorted by (start, span id); ``skipped`` rows (state
    markers, HTTP requests carrying a model call) are no steps, as in ``records.step_tree``."""
    root, children = _group(span_ids, parent_ids, skipped)
    t0 = starts[root] if root >= 0 else min(starts, default=0)
    ids = {sid for sid, m in zip(span_ids, skipped, strict=True) if not m}
    # Under the root, then the orphans (parent not in this trace yet, e.g. the root is still running).
    tops = ([span_ids[root]] if root >= 0 else []) + sorted(set(children) - ids - (
        {span_ids[root]} if root >= 0 else set()))
    unique = len(ids) == len(span_ids) - sum(1 for m in skipped if m)
    order, depths, parents = _depth_first(span_ids, children, tops, unique)
    sizes = [0] * len(order)
    for pos in range(len(order) - 1, -1, -1):
        parent = parents[pos]
        if parent >= 0:
            sizes[parent] += sizes[pos] + 1
    ordered_ids = [span_ids[i] for i in order]
    failed_status = sc.StepStatus.FAILED
    failed = tuple(pos for pos, i in enumerate(order) if statuses[i] == failed_status)
    return Outline(span_ids=ordered_ids, depths=array("H", (min(d, 65535) for d in depths)),
                   parents=array("q", parents), sizes=array("q", sizes),
                   starts=array("q", [starts[i] for i in order]), durations=array("q", [durations[i] for i in order]),
                   failed=failed, t0=t0, index=dict(zip(ordered_ids, range(len(ordered_ids)), strict=True)))


def from_rows(span_ids: Sequence[str], depths: Sequence[int], parents: Sequence[int], sizes: Sequence[int],
              starts: Sequence[int], durations: Sequence[int], failed: Sequence[int], t0: int) -> Outline:
    """The outline of columns already in depth-first order (read back from execlog_step_pages)."""
    ids = list(span_ids)
    return Outline(span_ids=ids, depths=array("H", depths), parents=array("q", parents), sizes=array("q", sizes),
                   starts=array("q", starts), durations=array("q", durations),
                   failed=tuple(pos for pos, f in enumerate(failed) if f), t0=t0,
                   index=dict(zip(ids, range(len(ids)), strict=True)))


class OutlineCache(SharedLRU[Outline]):
    """Outlines by key, least recently used first out, bounded by their total number of steps."""

    def __init__(self, max_positions: int = CACHE_POSITIONS):
        super().__init__(max_positions, getsizeof=len)
