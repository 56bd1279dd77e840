"""The Insights charts: one named ClickHouse query each (``sql/insights/<chart>.sql``), over the derived tables.

Every chart takes the listing's filters (kind, name, statuses, service, date range, projects) as bound parameters;
its rows go to the browser as ClickHouse returns them (no per-row work here). Time series are bucketed
by an interval chosen from the range so a chart has at most about ``MAX_BUCKETS`` points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from execlog_otel.store import schema, sqlfiles
from execlog_otel.store.errors import QueryError
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.store import Store

HOUR_NS = 3_600 * 10**9
DAY_NS = 24 * HOUR_NS
DEFAULT_RANGE_NS = 7 * DAY_NS
MAX_BUCKETS = 60
BUCKETS_S = (60, 300, 900, 3_600, 3 * 3_600, 6 * 3_600, 12 * 3_600, 86_400)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    series: bool  # bucketed over time (first column "bucket", ISO-8601 UTC)


CHARTS: dict[str, Chart] = {c.id: c for c in (
    Chart("status_over_time", "Executions over time by status", True),
    Chart("failure_rate", "Failure rate", True),
    Chart("duration", "Duration p50 / p95", True),
    Chart("cost_by_model", "Tokens and cost by model", True),
    Chart("cost_by_name", "Tokens and cost by agent / automation", True),
    Chart("top_failing", "Top failing agents and automations", False),
    Chart("slowest_steps", "Slowest steps (p95)", False),
    Chart("failing_steps", "Most failing steps", False),
    Chart("tools", "Most used tools", False),
    Chart("connectors", "Most used connectors", False),
)}
# The charts of the tools and connectors (insights/tool_runs.sql), with the facet each counts.
FACETS = {"tools": "tool", "connectors": "connector"}
# The charts that read the hourly totals when the filters allow (insights/<chart>_hourly.sql).
HOURLY_CHARTS = frozenset({"cost_by_model"})


@dataclass(frozen=True)
class ChartData:
    chart: Chart
    from_ns: int
    to_ns: int
    bucket_s: int | None
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def bucket_seconds(from_ns: int, to_ns: int) -> int:
    span_s = max((to_ns - from_ns) // 10**9, 1)
    return next((b for b in BUCKETS_S if span_s / b <= MAX_BUCKETS), BUCKETS_S[-1])


def params(f: ListFilter, now_ns: int | None = None) -> dict[str, Any]:
    """Bound parameters of every chart: the listing's filters, the range (default the last 7 days), the bucket."""
    to_ns = f.to_ns if f.to_ns is not None else (now_ns or time.time_ns())
    from_ns = f.from_ns if f.from_ns is not None else to_ns - DEFAULT_RANGE_NS
    p = {"from_ns": from_ns, "to_ns": to_ns, "bucket_s": bucket_seconds(from_ns, to_ns),
         "kind": f.kind or "", "name": f.name or "", "service": f.service or "", "statuses": list(f.status),
         "all_projects": int(f.scope.everything), "projects": sorted(f.scope.projects or ())}
    # The whole (UTC) days of the range, which the step, tool and connector charts read from the day summaries when
    # those know every filter given: the summaries are per kind, over every project (else no day: the rows are read).
    p["mid_from_ns"], p["mid_to_ns"] = _whole(from_ns, to_ns, DAY_NS, by_name_summary(p) and not p["name"])
    # The whole hours of the range, which the cost charts read from the hourly summaries by name when those know
    # every filter given (per kind and name, over every project) and the interval is whole hours.
    p["hour_from_ns"], p["hour_to_ns"] = _whole(from_ns, to_ns, HOUR_NS,
                                                by_name_summary(p) and p["bucket_s"] % 3_600 == 0)
    return p


def _whole(from_ns: int, to_ns: int, unit_ns: int, summarised: bool) -> tuple[int, int]:
    """The whole units (days, hours) within ``from_ns``..``to_ns`` as a half-open range; empty unless
    ``summarised`` (the summaries know the filters)."""
    first = -(-from_ns // unit_ns) * unit_ns
    return first, max((to_ns + 1) // unit_ns * unit_ns, first) if summarised else first


def by_name_summary(p: dict[str, Any]) -> bool:
    """Whether the hourly usage summaries by kind and name (execlog_named_usage_hourly) know the filters of the
    chart's parameters ``p``: a kind or a name, over every project (not a service, a status or projects). The
    day summaries (execlog_step_days, execlog_tool_days) know these but the name."""
    return bool(p["all_projects"]) and not (p["service"] or p["statuses"])


def _fragment(name: str) -> sqlfiles.Fragment:
    return sqlfiles.Fragment(sqlfiles.statement(f"insights/{name}"))


def sql(chart: str, database: str, narrowed: bool = True, hourly: bool = False, named: bool = False,
        few_raw: bool = False) -> str:
    """The chart's statement; ``narrowed``: the filters (or the caller's projects) select more than a time range,
    so per-span and per-attempt rows are matched to the executions selected (else the range alone selects them);
    ``hourly``: the cost charts that can read the hourly totals (execlog_usage_hourly) do; ``named``: the filters
    are ones the hourly summaries by name know (``by_name_summary``), so the cost by model reads those;
    ``few_raw``: those summaries serve whole hours of the range, so only a few hours' LLM steps are read."""
    values: dict[str, object] = {
        "database": database, "executions_filter": _fragment("executions_filter"),
        "attempts_conditions": _fragment("attempts_conditions"),
        "attempts_filter": _fragment("attempts_filter" if narrowed else "range_filter"),
        "step_rows": _fragment("step_rows"), "step_duration_quantiles": schema.STEP_DURATION_QUANTILES,
        "named_usage": _fragment("named_usage"), "raw_attempts": _fragment("raw_attempts") if few_raw else "",
        "tool_runs": _fragment("tool_runs"), "facet": f"'{FACETS.get(chart, '')}'"}
    if chart == "cost_by_model":
        usage = "cost_by_model_hourly" if hourly else "cost_by_model_named" if named else "cost_by_model_usage"
        values.update(priced_usage_fragments(f"insights/{usage}"))
    elif chart == "cost_by_name":
        values.update(priced_usage_fragments("insights/cost_by_name_usage"))
    return sqlfiles.statement(f"insights/{chart}", **values)


def priced_usage_fragments(usage: str) -> dict[str, sqlfiles.Fragment]:
    """The fragments that price summed usage rows (``usage``: the statement summing them per model), for the
    cost charts and the listing's totals alike."""
    return {"priced_usage": sqlfiles.Fragment(sqlfiles.statement("insights/priced_usage")),
            "usage": sqlfiles.Fragment(sqlfiles.statement(usage)),
            "usage_sums": sqlfiles.Fragment(sqlfiles.statement("insights/usage_sums"))}


def reads_hourly(chart: str, by_root: bool, bucket_s: int) -> bool:
    """Whether the chart reads the hourly totals: a cost chart by model whose filters select only a range and
    projects (``by_root`` false: the hourly totals know each step's project and model, not its execution's kind,
    name, service or status: those come from the root span, which arrives last), over buckets of whole hours."""
    return chart in HOURLY_CHARTS and not by_root and bucket_s % 3_600 == 0


def run(store: Store, chart: str, f: ListFilter, timeout_s: float = 10.0) -> ChartData:
    """One chart's columns and rows as ClickHouse returns them, with the range and bucket used."""
    if chart not in CHARTS:
        raise QueryError(f"no chart {chart!r}: expected one of {', '.join(CHARTS)}")
    p = params(f)
    by_root = bool(p["kind"] or p["name"] or p["service"] or p["statuses"])  # what only the root span tells
    # A caller limited to some projects is narrowed too: the per-span rows are matched to their projects'
    # attempts (the time range alone would count every project's steps, tools, models and costs).
    narrowed = by_root or not p["all_projects"]
    hourly = reads_hourly(chart, by_root, p["bucket_s"])
    named, few_raw = by_name_summary(p), p["hour_to_ns"] > p["hour_from_ns"]
    result = store.pool.query(sql(chart, store.database, narrowed, hourly, named, few_raw), parameters=p,
                              settings={"max_execution_time": timeout_s or 10})
    return ChartData(chart=CHARTS[chart], from_ns=p["from_ns"], to_ns=p["to_ns"],
                     bucket_s=p["bucket_s"] if CHARTS[chart].series else None,
                     columns=tuple(result.column_names), rows=tuple(tuple(r) for r in result.result_rows))
