"""Listing and detail latency over a generated execution log (see ``dataset``).

Server time of the real API: the Flask test client against ``create_app`` over
the dataset's store, in a process set up as ``execlog serve``'s (its garbage-collector thresholds,
``server.tune_garbage_collection``), so each figure includes the queries, the Python around
them and the JSON answer, but no network. Each request kind runs with varying
parameters (statuses, search texts, day windows, starting executions) so no
answer is the previous one repeated. Baseline, same process and store: the
cheapest ClickHouse round trip (``SELECT 1``), so the ratios show how far the
requests are from the engine's fixed cost on this machine. Measured after the
background merges settled, in the state a store in use keeps its past days: the derived tables that
force-merge a day ten minutes after its last write (migration 039) with each day in one part
(``common.merge_past_days`` does at once what the store does by itself then), and the Insights step
and cost summaries and the listing totals' summary recomputed as their hourly views do
(``refresh_insights_summaries``); nothing else is optimized. The ``project listing`` rows are the same
requests scoped to one of the dataset's 20 projects (``?project=``).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SIZES, emit, log, settle
from benchmarks.dataset import open_or_generate, project_name
from benchmarks.stats import summary
from benchmarks.storage import bytes_per_span
from execlog_otel.config import Settings
from execlog_otel.server import THREADS, tune_garbage_collection
from execlog_otel.store import insights
from execlog_otel.store.store import Store
from execlog_otel.viewer.app import create_app

DATA_ROOT = Path("/tmp")


def data_dir_for(executions: int, root: Path = DATA_ROOT) -> Path:
    """Where a dataset of this size is kept between runs (outside the repository)."""
    spans_m, rest = divmod(executions * 10, 1_000_000)
    return root / (f"execlog-bench-{spans_m}m" if spans_m and not rest else f"execlog-bench-{executions}e")


def _timed(client: Any, url: str) -> tuple[float, dict]:
    t = time.perf_counter()
    resp = client.get(url)
    ms = (time.perf_counter() - t) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"GET {url} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return ms, resp.get_json()


def run(executions: int, repeats: int, data_dir: Path, with_insights: bool = True,
        cases_prefixes: tuple[str, ...] = ()) -> dict:
    """``cases_prefixes``: measure only the request kinds whose names start with one of them (all when empty)."""
    # The store as execlog serve opens it: a client per worker thread, so a request's reads run side by side.
    store, ds = open_or_generate(data_dir, executions, log=log, pool_size=THREADS)
    waited = settle(store.pool, store.database, ds.spans)
    if with_insights:
        refresh_insights_summaries(store)
    # A generous query budget: a slow request is measured, not cancelled.
    settings = Settings.from_env(environ={}, clickhouse_url=f"chdb://{data_dir}", database=store.database, port=0,
                                 query_timeout_s=120.0)
    app = create_app(settings, store, receiver=False)
    tune_garbage_collection()  # as execlog serve and execlog viewer run their app
    client = app.test_client()
    rng = random.Random(7)
    day_ns = 86_400 * 10**9
    oldest = ds.newest_ns - int(29.5 * day_ns)

    # Search texts that exist in the data, a different one each time (ClickHouse caches which granules
    # matched a condition, so repeating one text would flatter the figure): request ids, target record
    # ids and execution ids of executions spread over the whole period, and name fragments.
    picked = store.pool.query(
        f"SELECT ExecutionId, RequestId, TargetRecordId FROM {store.table('execlog_executions')} "
        "WHERE cityHash64(ExecutionId) % {every:UInt64} = 0 LIMIT {n:UInt32}",
        parameters={"every": max(1, ds.executions // (repeats * 4)), "n": repeats * 2}).result_rows
    ids = [p[rng.randrange(3)] or p[0] for p in picked]
    # Texts of names, targets and events (common: they fill a page from the newest day).
    texts = ["invoice", "sync", "agent-", "report", "Shipment", "webhook.received"]
    searches = [x for pair in zip(ids, texts * repeats, strict=False) for x in pair]
    statuses = ["Failed", "Running", "Paused", "Partially Executed", "Rejected,Failed", "Queued"]
    cases: dict[str, Any] = {
        "listing: default page": lambda i: "/api/executions",
        "listing: status filter": lambda i: f"/api/executions?status={statuses[i % len(statuses)]}",
        "listing: search": lambda i: f"/api/executions?q={searches[i % len(searches)]}",
        "listing: 24-hour range": lambda i: day_window(oldest + rng.randrange(int(28 * day_ns)), day_ns),
        # Full-text search of payloads (opt-in, the last 7 days): a text of the roots' inputs.
        "listing: payload search (in:payload, 7 days)":
            lambda i: f"/api/executions?q=account+{rng.randrange(20_000)}+in:payload",
        "listing: next page (cursor)": None,
        # What the totals above the listing add to it (the page asks for them beside the page itself).
        "listing: totals (default filters)": lambda i: "/api/totals",
        "listing: totals (status filter)": lambda i: f"/api/totals?status={statuses[i % len(statuses)]}",
        # One project of 20 (?project=, what the viewer sends once a project is chosen).
        "project listing: default page": lambda i: f"/api/executions?project={project_name(i)}",
        "project listing: status filter": lambda i: f"/api/executions?project={project_name(i)}"
                                                    f"&status={statuses[i % len(statuses)]}",
        "project listing: search": lambda i: f"/api/executions?project={project_name(i)}"
                                             f"&q={searches[i % len(searches)]}",
        "project listing: next page (cursor)": None,
        f"detail: {ds_big_steps(store, ds)}-step execution": lambda i: f"/api/executions/{ds.big_execution_id}",
        "Quick View next": None,
    }
    # Insights: every chart over the whole 30 days, alternating all executions and one kind (so no answer
    # is the previous one repeated).
    month = f"from={(ds.newest_ns - 30 * day_ns) // 10**6}&to={ds.newest_ns // 10**6}"
    for chart in insights.CHARTS if with_insights else ():
        cases[f"insights: {chart}"] = (lambda c: lambda i: f"/api/insights/{c}?{month}"
                                       + ("&kind=agent" if i % 2 else ""))(chart)
    if cases_prefixes:
        cases = {name: make for name, make in cases.items() if name.startswith(cases_prefixes)}
    baseline = []
    for _ in range(repeats):
        t = time.perf_counter()
        store.pool.query("SELECT 1")
        baseline.append((time.perf_counter() - t) * 1000)
    reset_peak_memory()
    out = _measure(client, cases, repeats, rng)
    disk = bytes_per_span(store.pool, store.database, ds.spans)
    memory = resident_memory()
    store.close()
    return {"executions": ds.executions, "spans": ds.spans, "baseline_select1_ms": summary(baseline),
            "cases": out, "merges_waited_s": waited, "storage": disk, "memory": memory}


def refresh_insights_summaries(store: Store) -> None:
    """The Insights and listing totals' summaries as their hourly views have them once the data is a minute old
    (they leave out rows stored in the last minute): recomputed now, after waiting for the newest rows to be that
    old."""
    ages = " UNION ALL ".join(f"SELECT dateDiff('second', max(Inserted), now()) AS age FROM {store.table(t)}"
                              for t in ("execlog_steps", "execlog_llm_usage", "execlog_trace_tools",
                                        "execlog_executions", "execlog_trace_rollups"))
    wait_s = 61 - int(store.pool.query(f"SELECT min(age) FROM ({ages})").result_rows[0][0])
    if wait_s > 0:
        log(f"waiting {wait_s} s for the newest steps to be a minute old")
        time.sleep(wait_s)
    store.refresh_summaries()


def reset_peak_memory() -> None:
    """Start this process's peak resident memory over from now (Linux's clear_refs), so that the peak reported
    is the serving's: a dataset generated in this run (3.2 GB at 10 M) or the summaries recomputed before the
    requests are not what ``execlog serve`` holds while it answers them."""
    Path("/proc/self/clear_refs").write_text("5")


def resident_memory() -> dict[str, float]:
    """This process's resident memory now and at its peak, MiB: the app and the embedded engine serving
    the queries above, as in ``execlog serve``."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mib": fields.get("VmRSS", 0.0), "peak_rss_mib": fields.get("VmHWM", 0.0)}


def _warm_up(client: Any, cases: dict[str, Any]) -> dict[str, str]:
    """Each kind once (page cache, compiled expressions), not counted; the kinds that failed, with why (e.g. a
    query past the viewer's timeout: 504), which are reported as failed instead of ending the whole run."""
    failed: dict[str, str] = {}
    for name, make in cases.items():
        if make is not None:
            try:
                _timed(client, make(0))
            except RuntimeError as exc:
                failed[name] = str(exc)[:300]
                log(f"{name}: {failed[name]}")
    return failed


def _sample(client: Any, name: str, make: Any, i: int, state: dict[str, Any], rng: random.Random) -> float:
    """One timed request of a kind (the cursor and Quick View kinds follow the listing's pages)."""
    if name == "listing: next page (cursor)":
        ms, state["page"] = _timed(client, f"/api/executions?cursor={state['page']['next_cursor']}")
        return ms
    if name == "project listing: next page (cursor)":
        # (A smoke-size project has one page: then its first page again.)
        cursor = state["project_page"]["next_cursor"]
        ms, state["project_page"] = _timed(client, f"/api/executions?project={project_name(7)}"
                                           + (f"&cursor={cursor}" if cursor else ""))
        return ms
    if name == "Quick View next":
        # The viewer's Quick View "next": the neighbour of the open row, then its summary.
        ids = state["page_ids"]
        current = ids[rng.randrange(len(ids))] if i else ids[0]
        ms1, nb = _timed(client, f"/api/executions/{current}/neighbors")
        ms2, _ = _timed(client, f"/api/executions/{nb['next']['id']}?steps=false")
        return ms1 + ms2
    return _timed(client, make(i))[0]


def _measure(client: Any, cases: dict[str, Any], repeats: int, rng: random.Random) -> dict[str, dict]:
    failed = _warm_up(client, cases)
    first = client.get("/api/executions").get_json()
    state = {"page": first, "page_ids": [it["id"] for it in first["items"]],
             "project_page": client.get(f"/api/executions?project={project_name(7)}").get_json()}
    out: dict[str, dict] = {}
    for name, make in cases.items():
        if name in failed:
            out[name] = {"error": failed[name]}
            continue
        samples = []
        try:
            for i in range(repeats):
                samples.append(_sample(client, name, make, i, state, rng))
        except RuntimeError as exc:
            out[name] = {"error": str(exc)[:300], "completed": len(samples)}
            log(f"{name}: failed after {len(samples)} requests: {out[name]['error']}")
            continue
        out[name] = summary(samples)
        log(f"{name}: p50 {out[name]['p50']:.1f} ms, p95 {out[name]['p95']:.1f} ms")
    return out


def day_window(lo_ns: int, day_ns: int) -> str:
    return f"/api/executions?from={lo_ns // 10**6}&to={(lo_ns + day_ns) // 10**6}"


def ds_big_steps(store: Any, ds: Any) -> int:
    return int(store.pool.query(f"SELECT count() - 1 FROM {store.table('otel_traces')} WHERE TraceId = {{t:String}}",
                                  parameters={"t": ds.big_execution_id}).result_rows[0][0])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    p.add_argument("--executions", type=int, required=True)
    p.add_argument("--data-root", type=Path, default=DATA_ROOT, help="directory holding the kept datasets")
    p.add_argument("--cases", default="", help="comma-separated prefixes of the request kinds to measure")
    a = p.parse_args()
    size = SIZES[a.size]
    prefixes = tuple(c.strip() for c in a.cases.split(",") if c.strip())
    emit(run(a.executions, size.query_repeats, data_dir_for(a.executions, a.data_root), size.insights, prefixes))
