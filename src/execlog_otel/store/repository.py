"""The read side of the store: named queries (``sql/read/*.sql``) in, read-model values out.

The listing reads ``execlog_executions`` (one row per execution, newest state, ordered by
(Start, ExecutionId)) with keyset pagination, then the rollups of just the rows on the page. The
detail reads the trace's spans from ``otel_traces``, bounded in time through
``otel_traces_trace_id_ts``. Every value is a server-side bound parameter; the placeholders filled
in Python are fixed fragments chosen by typed filter values, never request text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from clickhouse_connect.driver.query import QueryResult

from execlog_otel import semconv as sc
from execlog_otel.store import audit, costs, records, sqlfiles
from execlog_otel.store.errors import QueryError
from execlog_otel.store.filters import (
    FIELD_CONDITIONS,
    PAYLOAD_MAX_IDS,
    ListFilter,
    PayloadSearch,
    check_execution_id,
    conditions,
)
from execlog_otel.store.insights import priced_usage_fragments
from execlog_otel.store.lru import SharedLRU
from execlog_otel.store.model import (
    Attempt,
    Cost,
    Cursor,
    Execution,
    ExecutionDetail,
    ExecutionSummary,
    LogRecord,
    NameCount,
    Neighbor,
    Neighbors,
    Page,
    ProblemStep,
    ProjectSummary,
    Rollup,
    StatusCounts,
    Totals,
)
from execlog_otel.store.scope import ALL_PROJECTS, ProjectScope
from execlog_otel.store.scope import CONDITION as PROJECT_CONDITION
from execlog_otel.store.step_pages import StepPages
from execlog_otel.store.store import Store

COUNT_CAP = 10_000
LIVE_OUTLINE_S = 2  # a live execution's outline is kept this long (the detail page polls every 2 s)
MAX_STEPS = 5_000
FINISHED_HEADS = 256  # headers (root rows) of finished big attempts kept in memory
# The listing totals' summary is recomputed every hour (execution_totals_view.sql); one older than two means its
# view is not running, and the totals read the executions instead.
TOTALS_SUMMARY_STALE_S = 7200
# From this many traces with steps arriving late since the summary (each looked up by key to find its
# execution's day), the totals read every matched execution instead.
TOTALS_SUMMARY_LATE = 1_000
# The conditions the listing totals' summary (execlog_execution_totals) has the columns for: projects, kind, name,
# status and service; not a time range, a search or a cost.
_SUMMARY_CONDITIONS = frozenset({PROJECT_CONDITION, *(condition for field, _, condition in FIELD_CONDITIONS
                                                      if field in ("kind", "status", "name", "service"))})
# The executions of the days changed since the totals' summary, their partitions only, and the rollups of their
# attempts (read/totals_summary_parts.sql).
_CHANGED_DAYS = ("Start >= toDateTime(arrayMin({days:Array(Date)}), 'UTC')",
                 "toDate(Start, 'UTC') IN {days:Array(Date)}")
_CHANGED_DAYS_ROLLUPS = "r.Start >= toDateTime(arrayMin({days:Array(Date)}), 'UTC') - INTERVAL 1 DAY"
MAX_LOG_RECORDS = 5_000  # log records read for one detail page
MAX_NAMES = 1_000
MAX_PROBLEM_STEPS = 20
SEARCH_NARROW_MAX = 1_000  # at most this many matching executions are fetched by their starts

_DAY_NS = 86_400 * 10**9
# FINAL over all of execlog_executions costs hundreds of ms at a million executions, over a day
# a few ms; a page ordered by start is usually full within the latest day or week, so those are
# tried first (benchmarks/ measures it). Rows outside a window all sort after the rows inside it.
START_WINDOWS_NS = (_DAY_NS, 7 * _DAY_NS)
# The end bound of a read whose attempts may still be running (2116-01-01: DateTime64(9) reaches 2262).
NO_END_NS = 2**62

_SORT_BY_START = "toUnixTimestamp64Nano(Start)"
_SORT_BY_DURATION = sqlfiles.Fragment("greatest({duration_ns}, 0)")
_SORT_BY_COST = "CostNano"  # from the join in _source(); an execution without LLM cost sorts as 0
_EXECUTIONS = sqlfiles.Fragment("{database}.execlog_executions FINAL")
_EXECUTIONS_WITH_COST = sqlfiles.Fragment(
    "{database}.execlog_executions FINAL LEFT JOIN ({execution_costs}) AS x USING (ExecutionId)")


def _sort_expr(f: ListFilter) -> str:
    return _SORT_BY_START if f.by_start else _SORT_BY_COST if f.sort == "cost" else _SORT_BY_DURATION


def _source(f: ListFilter, params: dict[str, Any]) -> sqlfiles.Fragment:
    """What the listing reads: the executions, joined to USD per execution when sorted by cost."""
    if f.sort != "cost":
        return _EXECUTIONS
    params["cost_since"] = f.from_ns or 0
    return _EXECUTIONS_WITH_COST


def _start_windows(f: ListFilter, cursor_ns: int | None) -> list[int | None]:
    """Bounds on Start to try in turn (None: unbounded), for listings ordered by start time."""
    if not f.by_start:
        return [None]
    if f.desc:
        anchor = cursor_ns if cursor_ns is not None else f.to_ns
        if anchor is None:
            anchor = int(datetime.now(tz=UTC).timestamp() * 1e9)
        bounds = [anchor - w for w in START_WINDOWS_NS if f.from_ns is None or anchor - w > f.from_ns]
    else:
        anchor = cursor_ns if cursor_ns is not None else f.from_ns
        if anchor is None:
            return [None]
        bounds = [anchor + w for w in START_WINDOWS_NS if f.to_ns is None or anchor + w < f.to_ns]
    return [*bounds, None]


def _where(conds: list[str]) -> sqlfiles.Fragment:
    return sqlfiles.Fragment(f"WHERE {' AND '.join(conds)}" if conds else "")


def _time_range(column: str, unit: str) -> str:
    """``AND`` conditions bounding ``column`` (the spans' Timestamp, their facts' Start) by the params
    ``lo_ns``/``hi_ns`` (unit "ns") or ``lo``/``hi`` in seconds with a second of slack ("s"); "" for none."""
    if unit == "ns":
        return (f"AND {column} >= fromUnixTimestamp64Nano({{lo_ns:Int64}}) "
                f"AND {column} <= fromUnixTimestamp64Nano({{hi_ns:Int64}})")
    if unit == "s":
        return (f"AND {column} >= toDateTime({{lo:UInt32}}) - INTERVAL 1 SECOND "
                f"AND {column} <= toDateTime({{hi:UInt32}}) + INTERVAL 1 SECOND")
    return ""


def _and_scope(scope: ProjectScope, params: dict[str, Any]) -> sqlfiles.Fragment:
    """``AND <the scope's condition>`` for statements with a fixed WHERE (empty for every project)."""
    condition = scope.condition(params)
    return sqlfiles.Fragment(f"AND {condition}" if condition else "")


class Repository:
    """Reads of one store, each bounded by ClickHouse at ``timeout_s`` (``max_execution_time``)."""

    def __init__(self, store: Store, timeout_s: float = 10.0):
        self.store = store
        self._settings: dict[str, Any] = {"max_execution_time": timeout_s or 10}
        self._fragments = {
            "database": store.database,
            "execution_columns": sqlfiles.Fragment(sqlfiles.statement("read/execution_columns")),
            "duration_ns": sqlfiles.Fragment(sqlfiles.statement("read/duration_ns")),
            "execution_costs": sqlfiles.Fragment(sqlfiles.statement("read/execution_costs", **_SUMMED_COST_PARTS)),
            "attempt_cost_columns": sqlfiles.Fragment(sqlfiles.statement("read/attempt_cost_columns",
                                                                         **_SUMMED_COST_PARTS)),
            "model_calls_join": sqlfiles.Fragment(sqlfiles.statement("read/model_calls_join")),
            "payload_matches": sqlfiles.Fragment(sqlfiles.statement("read/payload_matches", limit="")),
        }
        self.pages = StepPages(self)
        self._has_logs = False  # set once the store is seen to hold log records (see _logs_kept_read)
        self._finished_heads: SharedLRU[list[dict[str, Any]]] = SharedLRU(FINISHED_HEADS)

    @property
    def settings(self) -> dict[str, Any]:
        """Settings of every read; on a sharded store a subquery over another Distributed table runs once and
        is sent to the shards (GLOBAL IN) instead of being refused (only there: read-only users may refuse
        settings)."""
        if self.store.sharded:
            return {**self._settings, "distributed_product_mode": "global"}
        return self._settings

    # --- running named statements ------------------------------------------------------------
    def _sql(self, name: str, **fragments: object) -> str:
        return sqlfiles.statement(f"read/{name}", **self._fragments, **fragments)

    def _rows(self, name: str, params: dict[str, Any], **fragments: object) -> list[dict[str, Any]]:
        return list(self.store.pool.query(self._sql(name, **fragments), parameters=params,
                                          settings=self.settings).named_results())

    def _tuples(self, name: str, params: dict[str, Any], **fragments: object) -> list[tuple]:
        return self.store.pool.query(self._sql(name, **fragments), parameters=params,
                                     settings=self.settings).result_rows

    def _submit(self, name: str, params: dict[str, Any], threads: int | None = None,
                **fragments: object) -> Future[QueryResult]:
        """The named query started on another client of the pool (``result()`` waits for it): for reads that
        do not depend on the ones the caller makes meanwhile; ``threads`` caps the threads it reads with."""
        settings = self.settings if threads is None else {**self.settings, "max_threads": threads}
        return self.store.pool.submit(self._sql(name, **fragments), parameters=params, settings=settings)

    def _rows_later(self, name: str, params: dict[str, Any], **fragments: object) -> Callable[[], list[dict[str, Any]]]:
        """``_rows``, started now on another client (``_submit``); calling the result waits for the rows."""
        reading = self._submit(name, params, **fragments)
        return lambda: list(reading.result().named_results())

    # --- the listing ---------------------------------------------------------------------------
    def _payload_search(self, f: ListFilter) -> PayloadSearch | None:
        """The payload search ``f`` asks for, its matching executions read once (a scan of the span facts'
        texts, which each statement of the request would otherwise repeat); ids None past PAYLOAD_MAX_IDS."""
        search = PayloadSearch.of(f)
        if search is None:
            return None
        rows = self._tuples("payload_matches", dict(search.params), limit=f"LIMIT {PAYLOAD_MAX_IDS + 1}")
        ids = tuple(r[0] for r in rows)
        return replace(search, ids=ids if len(ids) <= PAYLOAD_MAX_IDS else None)

    def page(self, f: ListFilter) -> Page:
        """A page of executions under ``f``, its next cursor, and how many match (bounded at COUNT_CAP)."""
        params: dict[str, Any] = {}
        where = conditions(f, params, self._payload_search(f))
        count_where = list(where)
        count_params = dict(params)
        cmp = "<" if f.desc else ">"
        sort_expr = _sort_expr(f)
        if f.cursor:
            where.append(f"({sort_expr}, ExecutionId) {cmp} ({{c_value:Int64}}, {{c_id:String}})")
            params.update(c_value=f.cursor.value, c_id=f.cursor.execution_id)
            if f.by_start:
                where.append(f"Start {cmp}= fromUnixTimestamp64Nano({{c_value:Int64}})")  # the key prunes
        params["limit"] = f.limit + 1
        windows = _start_windows(f, f.cursor.value if f.cursor else None)
        matches = None
        counting = None

        def count_meanwhile() -> Future[QueryResult]:
            # The count does not depend on the page: it runs while the page (or its facts) is read, on one
            # thread so that it leaves the other cores to the page the user waits for (it stops at COUNT_CAP;
            # status filter at 1 M spans, in-process, eight alternations: 28.5 -> 27.3 ms per request).
            return self._submit("executions_count", count_params, threads=1, where=_where(count_where),
                                **self._count_shape(f))
        if not f.q:
            counting = count_meanwhile()
            rows = self._page_rows(f, where, params, windows)
        else:
            # A common text fills the page from the nearest day. Otherwise a search reads every row: one
            # scan without FINAL finds the executions any of whose rows match (the newest row's among
            # them); when they are few, FINAL reads only their starts and their number is the count.
            nearest, windows = ([windows[0]], windows[1:]) if windows[0] is not None else ([], windows)
            rows = self._page_rows(f, where, params, nearest)
            if len(rows) <= f.limit:
                matches = self._tuples("execution_matches", count_params, where=_where(count_where),
                                       max_matches_plus_one=SEARCH_NARROW_MAX + 1)
                if len(matches) > SEARCH_NARROW_MAX:
                    matches = None
                    rows = self._page_rows(f, where, params, windows)
                else:
                    where.append("Start IN (SELECT fromUnixTimestamp64Nano(arrayJoin({m_starts:Array(Int64)})))")
                    params["m_starts"] = sorted({m[0] for m in matches})
                    rows = self._page_rows(f, where, params, [None]) if matches else []
            if matches is None or f.status:
                counting = count_meanwhile()
        has_more = len(rows) > f.limit
        rows = rows[: f.limit]
        items = self._with_rollups(rows)
        next_cursor = None
        if has_more and rows:
            last = items[-1]
            value = last.start_ns if f.by_start else int(rows[-1]["SortValue"]) if f.sort == "cost" \
                else last.duration_ns
            next_cursor = Cursor(value, last.id)
        count = int(counting.result().result_rows[0][0]) if counting is not None else len(matches or ())
        return Page(items=tuple(items), next_cursor=next_cursor, count=min(count, COUNT_CAP),
                    count_capped=count > COUNT_CAP)

    @staticmethod
    def _count_shape(f: ListFilter) -> dict[str, object]:
        # Without a status filter every filter is on the execution's identity (name, kind, service, ids,
        # target, event, start), which its state rows repeat, so counting distinct executions needs no
        # FINAL — a search scans all of them, and FINAL would triple the cost.
        if f.status:
            return {"distinct": "1", "final": "FINAL", "count_cap_plus_one": COUNT_CAP + 1}
        return {"distinct": "DISTINCT ExecutionId", "final": "", "count_cap_plus_one": COUNT_CAP + 1}

    def _page_rows(self, f: ListFilter, where: list[str], params: dict[str, Any],
                   windows: list[int | None]) -> list[dict[str, Any]]:
        # Ordering by Start itself (not its ns value) lets ClickHouse read the sorting key in order.
        order_expr = "Start" if f.by_start else _sort_expr(f)
        direction = "DESC" if f.desc else "ASC"
        source = _source(f, params)
        sort_column = ", CostNano AS SortValue" if f.sort == "cost" else ""
        rows: list[dict[str, Any]] = []
        for window in windows:
            window_where = list(where)
            window_params = dict(params)
            if window is not None:
                window_where.append(f"Start {'>' if f.desc else '<'}= fromUnixTimestamp64Nano({{w_bound:Int64}})")
                window_params["w_bound"] = window
            rows = self._rows("executions_page", window_params, where=_where(window_where), order_expr=order_expr,
                              direction=direction, source=source, sort_column=sort_column)
            if len(rows) > f.limit:
                break
        return rows

    def _with_rollups(self, rows: list[dict[str, Any]], with_limits: bool = True) -> list[Execution]:
        """Executions of ``rows`` with their rollups, tokens and cost (one read: ``read/page_facts.sql``), and
        (``with_limits``) their attempt limits when retried."""
        return self._with_facts(rows, with_limits)[0]

    def _with_facts(self, rows: list[dict[str, Any]], with_limits: bool = True
                    ) -> tuple[list[Execution], dict[str, dict[str, Cost]]]:
        """``_with_rollups``, and the cost of each attempt read with them (execution id -> trace id -> cost)."""
        if not rows:
            return [], {}
        rollups, per_attempt = self._page_facts(rows)
        limits = self._max_attempts([r for r in rows if r["Attempt"] > 1]) if with_limits else {}
        out = []
        for r in rows:
            cost = costs.total(list(per_attempt.get(r["ExecutionId"], {}).values()))
            # Tokens follow cost: every attempt, each token once (one rule, see model.Rollup).
            roll = replace(rollups.get(r["ExecutionId"], Rollup()), input_tokens=cost.stated_input_tokens,
                           output_tokens=cost.stated_output_tokens, total_tokens=cost.total_tokens)
            out.append(replace(records.execution(r, roll, limits.get(r["TraceId"])), cost=cost))
        return out, per_attempt

    def _page_facts(self, rows: list[dict[str, Any]]) -> tuple[dict[str, Rollup], dict[str, dict[str, Cost]]]:
        """execution id -> its latest attempt's rollup, and execution id -> attempt trace id -> what it cost
        (every attempt of a retried execution: ``earlier_attempts``)."""
        params: dict[str, Any] = {"since": min(int(r["StartNs"]) for r in rows)}
        retried = [r["ExecutionId"] for r in rows if r["Attempt"] > 1]
        # When every latest attempt has ended, their rollups (and their earlier attempts') start before the
        # last end: the day partitions after it are not read (a 24-hour range or an execution weeks back read
        # every partition up to today). A running one may still get steps: no bound then.
        ends = [int(r.get("AttemptEndNs") or 0) for r in rows]
        params["until"] = max(ends) if all(ends) else NO_END_NS
        latest = {r["TraceId"] for r in rows}
        execution_of = {r["TraceId"]: r["ExecutionId"] for r in rows}
        if retried:  # their earlier attempts are looked up only when there are any
            for trace_id, execution_id in self._tuples("earlier_attempts", {"since": params["since"],
                                                                             "retried": retried}):
                execution_of.setdefault(trace_id, execution_id)
        rollups: dict[str, Rollup] = {}
        per_attempt: dict[str, dict[str, Cost]] = {}
        for f in self._rows("page_facts", {**params, "traces": list(execution_of)}):
            trace_id = f["TraceId"]
            if trace_id in latest:
                rollups[execution_of[trace_id]] = records.rollup(f)
            if f["HasUsage"]:
                per_attempt.setdefault(execution_of[trace_id], {})[trace_id] = costs.from_row(f)
        return rollups, per_attempt

    # --- cost ----------------------------------------------------------------------------------
    def step_costs(self, trace_id: str, since_ns: int, span_ids: list[str] | None = None) -> dict[str, Cost]:
        """span id -> what that step cost, with the price-table name its model matched (of ``span_ids`` only
        when given)."""
        return self._step_costs_read(trace_id, since_ns, span_ids)()

    def _step_costs_read(self, trace_id: str, since_ns: int,
                         span_ids: list[str] | None = None) -> Callable[[], dict[str, Cost]]:
        """``step_costs``, started now on another client; calling the result waits for it."""
        params: dict[str, Any] = {"trace_id": trace_id, "since": since_ns}
        span_clause = ""
        if span_ids is not None:
            span_clause = "AND SpanId IN {span_ids:Array(String)}"
            params["span_ids"] = span_ids
        rows = self._rows_later("costs_by_span", params, span_clause=span_clause)
        return lambda: {r["SpanId"]: costs.from_row(r) for r in rows()}

    def foreign_traces(self, trace_ids: list[str], project: str) -> list[str]:
        """Of ``trace_ids``, those holding an execution attempt of a project other than ``project``."""
        if not trace_ids:
            return []
        return [r[0] for r in self._tuples("foreign_traces", {"traces": trace_ids, "project": project})]

    def totals(self, f: ListFilter) -> Totals:
        """Executions, failed ones, tokens and cost (every attempt) under the listing's filters."""
        params: dict[str, Any] = {"cost_since": f.from_ns or 0}
        where = conditions(f, params, self._payload_search(f))
        if all(c == PROJECT_CONDITION for c in where):
            # Nothing but the projects: the hourly totals hold the tokens and cost (read/totals_by_hour.sql).
            r = self._rows("totals_by_hour", params, where=_where(where),
                           **priced_usage_fragments("read/usage_by_model"))[0]
        else:
            r = self._rows("listing_totals", params, parts=self._totals_parts(where, params), **_SUMMED_COST_PARTS)[0]
        usd = r["CostUsd"]
        return Totals(executions=int(r["Executions"]), failed=int(r["Failed"]), tokens=int(r["Tokens"] or 0),
                      cost_usd=None if usd is None and r["UnpricedSteps"] else round(float(usd or 0.0), 10),
                      unpriced_steps=int(r["UnpricedSteps"]))

    def _totals_parts(self, where: list[str], params: dict[str, Any]) -> sqlfiles.Fragment:
        """The rows listing_totals.sql sums for the conditions ``where``: from the summary
        (read/totals_summary_parts.sql) when it has their columns, is recent and few steps arrived late since it
        was made, else from every matched execution."""
        scope = sqlfiles.Fragment(self._sql("totals_scope"))
        days = self._totals_changed_days() if _SUMMARY_CONDITIONS.issuperset(where) else None
        if days is None:
            return sqlfiles.Fragment(self._sql("totals_parts", where=_where(where), cost_scope=scope))
        params["days"] = days
        changed = ""
        if days:
            changed = sqlfiles.Fragment("UNION ALL " + self._sql(
                "totals_parts", where=_where([*where, *_CHANGED_DAYS]),
                cost_scope=sqlfiles.Fragment(f"{_CHANGED_DAYS_ROLLUPS} AND ({scope})")))
        return sqlfiles.Fragment(self._sql("totals_summary_parts", and_where="".join(f" AND {c}" for c in where),
                                           changed_days=changed))

    def _totals_changed_days(self) -> list[date] | None:
        """The days (of the executions' start) with a row stored since the listing totals' summary was made, read
        from the executions instead (read/totals_changes.sql); None when there is no summary, it is older than
        TOTALS_SUMMARY_STALE_S (its view is not running) or TOTALS_SUMMARY_LATE traces or more had steps arriving
        late since."""
        through, age_s, days, late = self._tuples("totals_changes", {"limit": TOTALS_SUMMARY_LATE})[0]
        if not through or age_s > TOTALS_SUMMARY_STALE_S or len(late) >= TOTALS_SUMMARY_LATE:
            return None
        changed = set(days)
        if late:
            changed.update(r[0] for r in self._tuples("trace_days", {"traces": late}))
        return sorted(changed)

    def _max_attempts(self, rows: list[dict[str, Any]]) -> dict[str, int | None]:
        """The attempt limit of retried executions, read from their latest attempt's root span."""
        if not rows:
            return {}
        params = {"ids": [r["TraceId"] for r in rows], "lo": min(int(r["AttemptStartNs"]) for r in rows)}
        return {r["TraceId"]: records.positive_int(r["MaxAttempts"]) for r in self._rows("max_attempts", params)}

    def by_ids(self, ids: list[str], scope: ProjectScope = ALL_PROJECTS) -> list[Execution]:
        """The current state of the given executions, in the order given (missing ones left out)."""
        if not ids:
            return []
        newest: dict[str, dict[str, Any]] = {}
        # FINAL collapses rows per sorting key; an execution has one Start, so one row each.
        params: dict[str, Any] = {"ids": ids}
        for r in self._rows("executions_by_ids", params, scope=_and_scope(scope, params)):
            if r["ExecutionId"] not in newest or r["AttemptStartNs"] > newest[r["ExecutionId"]]["AttemptStartNs"]:
                newest[r["ExecutionId"]] = r
        return self._with_rollups([newest[i] for i in ids if i in newest])

    def projects_of(self, ids: list[str], scope: ProjectScope = ALL_PROJECTS) -> dict[str, str]:
        """Execution id -> its project, for the given executions that ``scope`` sees (the others left out)."""
        if not ids:
            return {}
        params: dict[str, Any] = {"ids": ids}
        return dict(self._tuples("projects_of", params, scope=_and_scope(scope, params)))

    def projects(self, scope: ProjectScope = ALL_PROJECTS) -> list[ProjectSummary]:
        """Every project ``scope`` sees with its executions and failures over the last 24 h and 7 days, and what
        they cost (the projects landing page)."""
        params: dict[str, Any] = {"now": datetime.now(tz=UTC).timestamp().__int__() * 10**9}
        condition = scope.condition(params)
        rows = self._rows("projects", params, scope=sqlfiles.Fragment(f"AND {condition}" if condition else ""))
        return [ProjectSummary(name=r["Project"], executions_24h=int(r["Executions24h"]),
                               failed_24h=int(r["Failed24h"]), executions_7d=int(r["Executions7d"]),
                               failed_7d=int(r["Failed7d"]), last_start_ns=int(r["LastNs"]),
                               cost_24h_usd=_usd(r["Cost24h"]), cost_7d_usd=_usd(r["Cost7d"]))
                for r in rows]

    def neighbors(self, f: ListFilter, execution_id: str) -> Neighbors:
        """The executions before and after ``execution_id`` in the listing's order under ``f``.

        Keyset lookups on (sort value, ExecutionId), the same order the listing pages through, so a
        detail page can step through the listing it was opened from without holding its pages."""
        row = self._execution_row(execution_id, f.scope)
        if row is None:
            return Neighbors(None, None)
        if f.sort == "cost":
            value = int(self._tuples("execution_cost_nano", {"id": row["ExecutionId"], "cost_since": f.from_ns or 0}
                                     )[0][0])
        else:
            value = row["StartNs"] if f.by_start else row["DurationNs"]
        sort_expr = _sort_expr(f)
        order_expr = "Start" if f.by_start else sort_expr
        # "next" follows the listing's order; "prev" walks it backwards. Both look in the nearest day first,
        # side by side; a direction that finds nothing there looks in the week, then all, as the listing reads.
        lookups = []
        payload = self._payload_search(f)
        for key, desc in (("next", f.desc), ("prev", not f.desc)):
            params: dict[str, Any] = {"c_value": value, "c_id": row["ExecutionId"]}
            where = conditions(f, params, payload)
            cmp, direction = ("<", "DESC") if desc else (">", "ASC")
            where.append(f"({sort_expr}, ExecutionId) {cmp} ({{c_value:Int64}}, {{c_id:String}})")
            # A live execution's duration grows between the two reads: never answer with itself.
            where.append("ExecutionId != {c_id:String}")
            if f.by_start:
                where.append(f"Start {cmp}= fromUnixTimestamp64Nano({{c_value:Int64}})")
            windows = _start_windows(replace(f, order="desc" if desc else "asc"), value)
            lookups.append((key, desc, direction, where, params, windows,
                            self._neighbor_read(desc, direction, order_expr, where, params, windows[0], f)))
        found: dict[str, Neighbor | None] = {}
        for key, desc, direction, where, params, windows, first in lookups:
            rows: list[tuple] = first.result().result_rows
            for window in windows[1:] if not rows else ():
                rows = self._neighbor_read(desc, direction, order_expr, where, params, window, f).result().result_rows
                if rows:
                    break
            found[key] = Neighbor(rows[0][0], rows[0][1]) if rows else None
        return Neighbors(prev=found["prev"], next=found["next"])

    def _neighbor_read(self, desc: bool, direction: str, order_expr: str, where: list[str], params: dict[str, Any],
                       window: int | None, f: ListFilter) -> Future[QueryResult]:
        """The nearest execution past the keyset in ``where``, started within ``window`` when given."""
        params = dict(params)
        bound = []
        if window is not None:
            bound = [f"Start {'>' if desc else '<'}= fromUnixTimestamp64Nano({{w_bound:Int64}})"]
            params["w_bound"] = window
        return self._submit("neighbor", params, where=_where(where + bound), order_expr=order_expr,
                            direction=direction, source=_source(f, params))

    def names(self, kind: str | None = None, scope: ProjectScope = ALL_PROJECTS) -> list[NameCount]:
        """Every agent / automation name with its execution count and latest start (the scope picker)."""
        params: dict[str, Any] = {"limit": MAX_NAMES}
        conds = []
        if kind:
            conds.append("Kind = {kind:String}")
            params["kind"] = kind
        project = scope.condition(params)
        if project:
            conds.append(project)
        return [NameCount(r["Name"], r["Kind"], int(r["Executions"]), int(r["LastNs"]))
                for r in self._rows("names", params, where=_where(conds))]

    def status_counts(self, f: ListFilter) -> StatusCounts:
        """Executions per status under every filter of ``f`` but its statuses (the status menu's counts).

        Bounded like the listing's count: at most COUNT_CAP + 1 executions are read, and ``capped`` says
        when the counts are a lower bound."""
        params: dict[str, Any] = {}
        where = conditions(f.without_status(), params, self._payload_search(f))
        rows = self._tuples("status_facets", params, where=_where(where), count_cap_plus_one=COUNT_CAP + 1)
        counts = {status: int(n) for status, n in rows}
        return StatusCounts(counts={s.value: counts.get(s.value, 0) for s in sc.Status},
                            capped=sum(counts.values()) > COUNT_CAP)

    # --- one execution -------------------------------------------------------------------------
    def _execution_row(self, execution_id: str, scope: ProjectScope) -> dict[str, Any] | None:
        params: dict[str, Any] = {"id": check_execution_id(execution_id)}
        rows = self._rows("execution_by_id", params, scope=_and_scope(scope, params))
        return rows[0] if rows else None

    def execution(self, execution_id: str, scope: ProjectScope = ALL_PROJECTS) -> Execution | None:
        """The execution in its newest state, with its rollup and attempt limit, or None (also when
        ``scope`` does not see its project)."""
        row = self._execution_row(execution_id, scope)
        return self._with_rollups([row])[0] if row is not None else None

    def attempts(self, execution_id: str, start_ns: int, retried: bool = True) -> list[Attempt]:
        """Every attempt of an execution (its first trace and the traces that retried it), oldest first.

        ``retried=False`` (its newest state is its first attempt) looks up the one trace by id, which its
        bloom filter index answers at once, instead of scanning roots since the start for retries."""
        return self._attempts_read(execution_id, start_ns, retried)()

    def _attempts_read(self, execution_id: str, start_ns: int, retried: bool) -> Callable[[], list[Attempt]]:
        """``attempts``, started now on another client; calling the result waits for it."""
        match = sqlfiles.Fragment("TraceId = {id:String}" if not retried else
                                  "(TraceId = {id:String} OR SpanAttributes[{attr.RETRY_OF}] = {id:String})")
        rows = self._rows_later("attempts", {"id": execution_id, "start": start_ns}, match=match)
        return lambda: [records.attempt(r) for r in rows()]

    def trace_bounds(self, trace_id: str) -> tuple[int, int]:
        """The trace's first start and last end, in seconds ((0, 0) when unknown)."""
        bounds = self._tuples("trace_bounds", {"id": trace_id})
        return (int(bounds[0][0] or 0), int(bounds[0][1] or 0)) if bounds else (0, 0)

    def trace_time_clause(self, trace_id: str, params: dict[str, Any], bounds: tuple[int, int] | None = None) -> str:
        """A condition on Timestamp bounding a read of the trace's spans to its time range (params filled)."""
        lo, hi = bounds if bounds is not None else self.trace_bounds(trace_id)
        if not (lo and hi):
            return ""
        params.update(lo=lo, hi=hi)
        return _time_range("Timestamp", "s")

    def trace_spans(self, trace_id: str, limit: int = MAX_STEPS, span_ids: list[str] | None = None,
                    between_ns: tuple[int, int] | None = None, bounds: tuple[int, int] | None = None,
                    facts_read: Callable[[], list[dict[str, Any]]] | None = None,
                    resources: bool = False) -> list[dict[str, Any]]:
        """The spans of one trace as rows (oldest first, at most ``limit``), with their derived facts; only
        ``span_ids`` when given (``between_ns``: their first and last start, which bounds the read). With
        ``resources``, the root and the state markers also carry their resource attributes (``Resource``), read
        by ``read/trace_resources.sql`` on another client while the spans are.

        The facts were derived as the spans arrived (execlog_span_facts, ordered by trace): read by key, not
        evaluated here. Without bounds they are read first, and their first and last start bound the read
        of the spans themselves (no separate lookup of the trace's time range); ``facts_read``: that read,
        started earlier by ``_span_facts_read`` with the same arguments."""
        params = _trace_params(trace_id, limit)
        span_clause = ""
        if span_ids is not None:
            span_clause = " AND SpanId IN {span_ids:Array(String)}"
            params["span_ids"] = span_ids
        facts_rows = None
        if between_ns is None and bounds is None:
            facts_rows = facts_read() if facts_read is not None else self._span_facts(params, "", span_clause)
            if facts_rows:
                starts = [int(f["StartNs"]) for f in facts_rows]
                between_ns = (min(starts), max(starts))
        if between_ns is not None:
            params.update(lo_ns=between_ns[0], hi_ns=between_ns[1])
            unit = "ns"
        else:
            unit = "s" if self.trace_time_clause(trace_id, params, bounds) else ""
        time_clause = _time_range("Timestamp", unit) + span_clause
        resources_read = self._rows_later("trace_resources", params, time_clause=time_clause) if resources else None
        rows = self._rows("trace_spans", params, time_clause=time_clause)
        if resources_read is not None:
            _add_resources(rows, resources_read())
        if not rows:
            return rows
        if facts_rows is None:
            facts_rows = self._span_facts(params, _time_range("Start", unit), span_clause)
        facts = {(f["SpanId"], f["StartNs"]): f for f in facts_rows}
        for r in rows:
            r.update(facts.get((r["SpanId"], r["StartNs"]), _NO_FACTS))
        return rows

    def _span_facts(self, params: dict[str, Any], time_clause: str, span_clause: str) -> list[dict[str, Any]]:
        return self._rows("span_facts", params, time_clause=time_clause,
                          span_clause=span_clause, **_STORED_IS_HTTP_CLIENT)

    def _span_facts_read(self, trace_id: str, limit: int) -> Callable[[], list[dict[str, Any]]]:
        """The facts ``trace_spans(trace_id, limit)`` reads first, started now on another client."""
        return self._rows_later("span_facts", _trace_params(trace_id, limit), time_clause="", span_clause="",
                                **_STORED_IS_HTTP_CLIENT)

    def _logs_kept_read(self) -> Callable[[], bool]:
        """Whether the store holds any log record, asked now on another client; calling the result waits for
        the answer. Once it does, it is not asked again (records leave only by retention); a store that cannot
        tell is taken to hold some."""
        if self._has_logs:
            return lambda: True
        reading = self._submit("logs_kept", {})

        def kept() -> bool:
            try:
                rows = reading.result().result_rows
            except Exception:  # noqa: BLE001 - e.g. a read-only endpoint refusing system tables: read the logs
                return True
            self._has_logs = bool(rows and rows[0][0])
            return self._has_logs
        return kept

    def trace_logs(self, trace_id: str, limit: int = MAX_LOG_RECORDS, span_ids: list[str] | None = None,
                   between_s: tuple[int, int] | None = None) -> dict[str, list[LogRecord]]:
        """The trace's OTLP log records by span id (oldest first; of ``span_ids`` only when given, started
        ``between_s`` when given); none when the store has no otel_logs."""
        lo, hi = between_s if between_s is not None else self.trace_bounds(trace_id)
        params: dict[str, Any] = {"id": trace_id, "limit": limit}
        time_clause = ""
        if lo and hi:  # the days of the trace, and the next one: a record may come after its span started
            time_clause = ("AND toDate(Timestamp) >= toDate(toDateTime({lo:UInt32})) "
                           "AND toDate(Timestamp) <= toDate(toDateTime({hi:UInt32})) + 1")
            params.update(lo=lo, hi=hi)
        if span_ids is not None:
            time_clause += " AND SpanId IN {span_ids:Array(String)}"
            params["span_ids"] = span_ids
        try:
            rows = self._rows("trace_logs", params, time_clause=time_clause)
        except Exception as exc:  # noqa: BLE001 - a store made without otel_logs (schema managed by hand)
            if "UNKNOWN_TABLE" not in str(exc) and "doesn't exist" not in str(exc):
                raise
            return {}
        out: dict[str, list[LogRecord]] = {}
        for r in rows:
            out.setdefault(r["SpanId"], []).append(LogRecord(
                time_ns=int(r["TimeNs"]), severity_text=r["SeverityText"], severity_number=int(r["SeverityNumber"]),
                body=r["Body"], event_name=r["EventName"], attributes=dict(r["LogAttributes"]),
                content_input=r["Input"], content_output=r["Output"]))
        return out

    def shown(self, execution_id: str, attempt: int | None = None, with_costs: bool = True,
              scope: ProjectScope = ALL_PROJECTS, light: bool = False) -> Shown | None:
        """The execution (latest state), its attempts when needed, and the attempt shown (``attempt``, else
        the latest), or None when there is no such execution (or ``scope`` does not see its project).
        ``light``: the execution's row only, no rollup, tokens or cost (a page of steps needs none)."""
        row = self._execution_row(execution_id, scope)
        return self._shown_from(row, attempt, with_costs, light) if row is not None else None

    def _shown_from(self, row: dict[str, Any], attempt: int | None = None, with_costs: bool = True,
                    light: bool = False) -> Shown:
        """``shown`` of the execution in ``row`` (``read/execution_by_id.sql``)."""
        # Never retried: its one attempt is the root among the spans read later, no query needed. Its attempts
        # are read while its rollup, tokens and the cost of every attempt are, in one read; the shown attempt's
        # root says its attempt limit (none read here).
        retried = records.execution(row).retried
        attempts_read = self._attempts_read(row["ExecutionId"], int(row["StartNs"]), retried) \
            if retried or attempt is not None else None
        per_attempt: dict[str, Cost] = {}
        if light:
            current = records.execution(row)
        else:
            executions, attempt_costs = self._with_facts([row], with_limits=False)
            current = executions[0]
            if with_costs:
                per_attempt = attempt_costs.get(current.id, {})
        all_attempts = attempts_read() if attempts_read is not None else None
        return self._pick(current, all_attempts, attempt, per_attempt, light)

    def another_attempt(self, s: Shown, attempt: int | None) -> Shown:
        """The execution of ``s`` with ``attempt`` shown instead, without reading the execution again (Compare
        of two attempts)."""
        all_attempts = s.attempts
        if all_attempts is None and attempt is not None:
            all_attempts = self.attempts(s.current.id, s.current.start_ns, retried=s.current.retried)
        return self._pick(s.current, all_attempts, attempt, s.attempt_costs)

    def _pick(self, current: Execution, all_attempts: list[Attempt] | None, attempt: int | None,
              per_attempt: dict[str, Cost], light: bool = False) -> Shown:
        """Which attempt of ``current`` is shown, with its step counts."""
        shown = None
        if attempt is not None:
            shown = next((a for a in all_attempts or [] if a.attempt == attempt), None)
            if shown is None:
                raise QueryError(f"attempt={attempt}: this execution has attempts "
                                 f"{', '.join(str(a.attempt) for a in all_attempts or []) or 'none'}")
        trace_id = shown.trace_id if shown else current.trace_id
        roll = current.rollup
        if trace_id != current.trace_id and shown is not None and not light:  # an earlier attempt's counts
            facts, _ = self._page_facts([{"TraceId": trace_id, "StartNs": shown.start_ns, "Attempt": 1,
                                          "ExecutionId": current.id}])
            roll = facts.get(current.id, Rollup())
        return Shown(current, all_attempts, shown, trace_id, roll, per_attempt)

    def outline(self, s: Shown):
        """The step tree of the shown attempt as positions (``store.outline``), cached by the execution's state:
        a finished attempt's tree does not change (a big one is kept in execlog_step_pages); a live one's is
        read again every LIVE_OUTLINE_S."""
        running = s.current.live and s.trace_id == s.current.trace_id
        live = int(time.time() // LIVE_OUTLINE_S) if running else 0
        if s.shown is not None and s.trace_id != s.current.trace_id:  # an earlier attempt: its own end
            version = (s.shown.status, s.shown.start_ns + s.shown.duration_ns, live)
        else:
            version = (s.current.status, s.current.attempt_end_ns, live)
        return self.pages.outline(s.trace_id, version, finished=not running)

    def trace_has_costs(self, trace_id: str) -> bool:
        return bool(self._tuples("trace_has_costs", {"id": trace_id})[0][0])

    def detail(self, execution_id: str, attempt: int | None = None, scope: ProjectScope = ALL_PROJECTS,
               page_size: int | None = None, step_logs: bool = True,
               shown: Shown | None = None) -> ExecutionDetail | None:
        """The execution (latest attempt unless ``attempt`` is given) with its steps, or None.

        With ``page_size``, an attempt of more than MAX_STEPS steps comes with its first ``page_size``
        steps only (``steps_total`` says how many; ``step_pages`` reads the others); without, with at most
        MAX_STEPS (``steps_truncated`` says when there were more). ``step_logs=False`` leaves out the
        steps' log records (Compare does not show them); ``shown``: the attempt, already read."""
        facts_read = None
        if shown is None:
            row = self._execution_row(execution_id, scope)
            if row is None:
                return None
            # What the latest attempt's steps are (their facts, read in the order of the key, at most a page)
            # does not depend on its rollup: read while it is. Left unused when the attempt has too many steps
            # for one page, or another attempt is shown.
            if attempt is None:
                facts_read = self._span_facts_read(row["TraceId"], MAX_STEPS + 2)
            s = self._shown_from(row, attempt)
        else:
            s = shown
        if page_size is not None and s.rollup.steps > MAX_STEPS:
            return self._paged_detail(s, page_size, scope)
        current, all_attempts, shown, trace_id = s.current, s.attempts, s.shown, s.trace_id
        # The root, up to MAX_STEPS steps, and one more span to tell whether there were more; each step made
        # once, with its log records and cost. The steps' costs are read while the spans are.
        per_attempt = s.attempt_costs
        step_costs_read = self._step_costs_read(trace_id, current.start_ns) if trace_id in per_attempt \
            else lambda: {}
        logs_kept = self._logs_kept_read() if step_logs else lambda: False
        spans = self.trace_spans(trace_id, MAX_STEPS + 2, resources=True,
                                 facts_read=facts_read if trace_id == s.current.trace_id else None)
        # The days its log records are read from: from its first start to its last end.
        bounds = (min(int(r["StartNs"]) for r in spans) // 10**9,
                  max(int(r["StartNs"]) + int(r["Duration"]) for r in spans) // 10**9 + 1) if spans else None
        logs = self.trace_logs(trace_id, between_s=bounds) if logs_kept() else {}
        step_costs = step_costs_read()
        root, steps, marker = records.step_tree(spans, logs, step_costs)
        if all_attempts is None:
            all_attempts = [records.attempt({**root, "TraceId": trace_id, "Attempt": root["AttemptNumber"],
                                             "Status": root["RootStatus"]})] if root is not None else []
        truncated = len(spans) >= MAX_STEPS + 2 or len(steps) > MAX_STEPS
        execution = current
        if trace_id != current.trace_id and root is not None and shown is not None:
            # An older attempt: its own status, time and duration (its rollup stays the latest's, as shown).
            execution = _as_attempt(current, shown)
        head_row = root or marker
        head = records.head(head_row["SpanAttributes"] if head_row else {},
                            head_row.get("Resource", {}) if head_row else {},
                            execution.status, execution.status_message,
                            head_row["Input"] if head_row else "", head_row["Output"] if head_row else "")
        # Cost: each attempt's, the shown attempt's steps', and the execution's over every attempt.
        all_attempts = self._attempts_with_costs(current, all_attempts, per_attempt, scope)
        shown_cost = per_attempt.get(trace_id, Cost())
        return ExecutionDetail(execution=execution, attempts=tuple(all_attempts), head=head,
                               steps=tuple(steps[:MAX_STEPS]), steps_truncated=truncated, attempt_cost=shown_cost,
                               steps_total=max(s.rollup.steps, len(steps)) if truncated else None)

    def _attempts_with_costs(self, current: Execution, attempts: list[Attempt], per_attempt: dict[str, Cost],
                             scope: ProjectScope) -> list[Attempt]:
        """Each attempt with its cost and who asked for it (the retry audit; the first: who triggered it)."""
        asked = audit.triggered_by(audit.entries(self.store, scope, current.id, timeout_s=self.settings[
            "max_execution_time"])) if len(attempts) > 1 else {}
        return [replace(a, cost=per_attempt.get(a.trace_id, Cost()),
                        triggered_by=(asked[a.attempt].actor if a.attempt in asked else
                                      current.triggered_by if a.attempt == 1 else ""))
                for a in attempts]

    def _paged_detail(self, s: Shown, page_size: int, scope: ProjectScope) -> ExecutionDetail:
        """A big attempt's detail: its header from the root (or newest state marker) and its first steps."""
        current, trace_id = s.current, s.trace_id
        execution = _as_attempt(current, s.shown) if s.shown is not None and trace_id != current.trace_id \
            else current
        # A finished attempt's header is its root, which does not change: read once, then kept (bounded).
        key = (trace_id, execution.attempt_start_ns, execution.status, execution.attempt_end_ns)
        heads = self._finished_heads.get(key) if not execution.live else None
        if heads is None:
            # The latest attempt's end is its root's (0 while a marker states it); an older one's is derived.
            heads = self._head(trace_id, execution.attempt_start_ns,
                               ended=execution is current and current.attempt_end_ns > 0)
            if not execution.live and heads:
                self._finished_heads.put(key, heads)
        all_attempts = s.attempts
        if all_attempts is None:  # never retried: its one attempt is the root read for the header
            root = heads[0] if heads and not heads[0]["ParentSpanId"] else None
            all_attempts = [records.attempt({**root, "TraceId": trace_id, "Attempt": root["AttemptNumber"],
                                             "Status": root["RootStatus"]})] if root is not None else []
        head = records.head(heads[0]["SpanAttributes"] if heads else {},
                            heads[0]["ResourceAttributes"] if heads else {},
                            execution.status, execution.status_message,
                            heads[0]["Input"] if heads else "", heads[0]["Output"] if heads else "")
        per_attempt = s.attempt_costs
        all_attempts = self._attempts_with_costs(current, all_attempts, per_attempt, scope)
        page = self.pages.page(trace_id, self.outline(s), current.start_ns, 0, page_size)
        return ExecutionDetail(execution=execution, attempts=tuple(all_attempts), head=head, steps=page.steps,
                               steps_truncated=False, attempt_cost=per_attempt.get(trace_id, Cost()),
                               steps_total=page.total, steps_paged=True)

    def summary(self, execution_id: str, scope: ProjectScope = ALL_PROJECTS) -> ExecutionSummary | None:
        """The execution's header, input and output without its steps (Quick View): reads only the root
        span and state markers of the latest attempt, so it stays fast for executions of any size."""
        row = self._execution_row(execution_id, scope)
        if row is None:
            return None
        # The header and the problem steps need only the attempt's trace and start: read while its rollup and
        # cost are.
        trace_id, since_ns = row["TraceId"], int(row["AttemptStartNs"])
        heads_read = self._rows_later("head", self._head_params(trace_id, since_ns,
                                                                ended=int(row["AttemptEndNs"]) > 0))
        problem_params = self._problem_params(trace_id, since_ns)
        problems_read = self._rows_later("problem_steps", problem_params, **_STORED_IS_HTTP_CLIENT)
        execution = self._with_rollups([row])[0]
        heads = self._with_head_facts(trace_id, heads_read())
        attrs = heads[0]["SpanAttributes"] if heads else {}
        resource = heads[0]["ResourceAttributes"] if heads else {}
        problems = self._problem_steps_of(problems_read(), problem_params)
        return ExecutionSummary(execution=execution,
                                head=records.head(attrs, resource, execution.status, execution.status_message,
                                                  heads[0]["Input"] if heads else "",
                                                  heads[0]["Output"] if heads else ""),
                                problem_steps=tuple(problems))

    @staticmethod
    def _problem_params(trace_id: str, since_ns: int) -> dict[str, Any]:
        return {"id": trace_id, "lo": since_ns, "limit": MAX_PROBLEM_STEPS}

    def problem_steps(self, trace_id: str, since_ns: int) -> list[ProblemStep]:
        """The failed and skipped steps of one attempt, oldest first, at most MAX_PROBLEM_STEPS (Quick View's
        "details of the skipped step" without loading every step)."""
        params = self._problem_params(trace_id, since_ns)
        return self._problem_steps_of(self._rows("problem_steps", params, **_STORED_IS_HTTP_CLIENT), params)

    def _problem_steps_of(self, found: list[dict[str, Any]], params: dict[str, Any]) -> list[ProblemStep]:
        """The problem steps ``found`` by their facts (``read/problem_steps.sql``), named from their spans."""
        if not found:  # the usual case: the facts say so, and no span is read
            return []
        spans = {r["SpanId"]: r for r in self._rows("problem_step_spans",
                                                      {**params, "span_ids": [f["SpanId"] for f in found]})}
        out = []
        for f in found:
            r = spans.get(f["SpanId"])
            if r is None:
                continue
            out.append(ProblemStep(name=r["StepName"] or r["SpanName"], status=f["StepStatus"],
                                   detail=r["SkipReason"] if f["StepStatus"] == sc.StepStatus.SKIPPED
                                   else (r["Validation"] or r["StatusMessage"]), start_ns=int(f["StartNs"])))
        return out

    @staticmethod
    def _head_params(trace_id: str, since_ns: int, ended: bool) -> dict[str, Any]:
        """``ended``: the attempt's state is its root's (an end is known), so no marker is looked for."""
        return {"id": trace_id, "lo": since_ns, "marker_state": sc.MARKER_STATE, "root_only": int(ended)}

    def _head(self, trace_id: str, since_ns: int, ended: bool) -> list[dict[str, Any]]:
        """The attempt's root, or while it runs its newest state marker (``read/head.sql``), with its derived
        facts (``read/head_facts.sql``, by key); none when there is neither."""
        return self._with_head_facts(trace_id, self._rows("head", self._head_params(trace_id, since_ns, ended)))

    def _with_head_facts(self, trace_id: str, heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not heads:
            return []
        head = heads[0]
        facts = self._rows("head_facts", {"id": trace_id, "span_id": head["SpanId"], "start_ns": head["StartNs"]})
        return [{**head, **(facts[0] if facts else _NO_FACTS)}]

    def trace_spans_with_facts(self, unit: str) -> sqlfiles.Fragment:
        """``read/trace_spans.sql`` joined by key to ``read/span_facts.sql`` as one statement (bound parameters
        left to the caller; ``unit``: which time bounds they hold, see ``_time_range``), for statements that read
        a trace's spans with their facts as a table (``read/step_pages_fill.sql``)."""
        spans = self._sql("trace_spans", time_clause=_time_range("Timestamp", unit))
        facts = self._sql("span_facts", time_clause=_time_range("Start", unit), span_clause="",
                          **_STORED_IS_HTTP_CLIENT)
        return sqlfiles.Fragment(self._sql("trace_spans_with_facts", spans=sqlfiles.Fragment(spans),
                                           facts=sqlfiles.Fragment(facts)))


def _trace_params(trace_id: str, limit: int) -> dict[str, Any]:
    """The parameters of ``read/trace_spans.sql`` and ``read/span_facts.sql`` for one trace."""
    return {"id": trace_id, "limit": limit, "marker_state": sc.MARKER_STATE}


# Statements over execlog_span_facts read whether a span is an HTTP client from its stored column.
_STORED_IS_HTTP_CLIENT: dict[str, object] = {"fact.is_http_client": "IsHttpClient"}
# The cost rule (facts/usage_cost_usd.sql) over the rollups' sums of its parts (read/attempt_cost_columns.sql).
_SUMMED_COST_PARTS: dict[str, object] = {"fact.cost_steps": "sum(r.CostSteps)",
                                         "fact.priced_cost_usd": "sum(r.PricedCostUsd)",
                                         "fact.unpriced_reported_usd": "sum(r.UnpricedReportedUsd)"}

# The facts of a span whose derived row is missing (none should be: the view derives them on insert).
_NO_FACTS: dict[str, Any] = {"StepKind": "step", "StepStatus": "", "Connector": "", "Model": "", "Tool": "",
                             "InputTokens": 0, "OutputTokens": 0, "TotalTokens": 0, "RootStatus": "",
                             "AttemptNumber": 0, "Input": "", "Output": "", "IsTransport": False}


def _add_resources(rows: list[dict[str, Any]], resources: list[dict[str, Any]]) -> None:
    """Give the rows of ``read/trace_spans.sql`` read by ``read/trace_resources.sql`` their ``Resource``."""
    by_span = {r["SpanId"]: r["Resource"] for r in resources}
    for r in rows:
        if r["SpanId"] in by_span:
            r["Resource"] = by_span[r["SpanId"]]


def _usd(value: Any) -> float | None:
    return None if value is None else round(float(value), 10)


@dataclass(frozen=True)
class Shown:
    """Which attempt of an execution a read is about."""

    current: Execution  # the execution in its newest state
    attempts: list[Attempt] | None  # every attempt, when they were read
    shown: Attempt | None  # the attempt asked for (None: the latest)
    trace_id: str  # the shown attempt's trace
    rollup: Rollup  # the shown attempt's step counts
    attempt_costs: dict[str, Cost]  # attempt trace id -> its cost


def _as_attempt(current: Execution, shown: Attempt) -> Execution:
    return replace(current, trace_id=shown.trace_id, attempt=shown.attempt, status=shown.status,
                   attempt_start_ns=shown.start_ns, attempt_end_ns=shown.start_ns + shown.duration_ns,
                   duration_ns=shown.duration_ns, status_message=shown.status_message)
