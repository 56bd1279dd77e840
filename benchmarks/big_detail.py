"""Big executions: the detail of a 100,000-step execution and its pages, and Compare of two 1,000-step
attempts, generated inside ClickHouse (``big_execution``) in a fresh embedded store.

Server time of the real API (Flask test client over ``create_app``, no network), as in
``listing_detail``. Cases: the detail (header and first page of steps) with the execution's outline
cached, as every open after the first finds it; in a new process (the outline read back from the kept
steps); and the very first open (the outline built from the spans, the steps read from them);
a page of 200 steps by offset (random offsets over the whole run) and by subtree (a random batch node);
the overview (mini-map) and a search; the steps of the finished big attempt are kept
(``execlog_step_pages``) after its first open, as in a running server, before anything is timed;
Compare of two attempts of a 1,000-step execution; the detail of
that 1,000-step execution (the read path of #14). Baseline, same process and store: ``SELECT 1``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from typing import Any

from benchmarks import big_execution
from benchmarks.common import SIZES, emit, log
from benchmarks.stats import summary
from execlog_otel.config import Settings
from execlog_otel.store.outline import OutlineCache
from execlog_otel.store.store import Store
from execlog_otel.viewer.app import create_app

STEPS = {"smoke": 6_000, "1m": 100_000, "10m": 100_000}
COMPARE_STEPS = {"smoke": 300, "1m": 1_000, "10m": 1_000}


def _timed(client: Any, url: str) -> tuple[float, float]:
    """(wall ms, CPU ms of the whole process: the request's Python and ClickHouse's threads). CPU time
    stays meaningful on a shared, loaded machine, where wall time mostly measures the others."""
    t, c = time.perf_counter(), time.process_time()
    resp = client.get(url)
    ms, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"GET {url} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return ms, cpu


def run(size: str, repeats: int) -> dict:
    steps, compare_steps = STEPS[size], COMPARE_STEPS[size]
    with tempfile.TemporaryDirectory(prefix="execlog-bench-big-") as data_dir:
        store = Store.open(f"chdb://{data_dir}", "otel")
        now = time.time_ns()
        t = time.perf_counter()
        big = big_execution.generate(store, steps, "ab" * 16, now - 3 * 3_600 * 10**9)
        first_start = now - 2 * 3_600 * 10**9
        first = big_execution.generate(store, compare_steps, "cd" * 16, first_start, name="retried-agent")
        big_execution.generate(store, compare_steps, "ef" * 16, now - 3_600 * 10**9, name="retried-agent",
                               retry_of=first.execution_id, attempt=2, variant=7, execution_start_ns=first_start)
        log(f"generated {steps:,} + 2 × {compare_steps:,} steps in {time.perf_counter() - t:.1f} s")
        settings = Settings.from_env(environ={}, clickhouse_url=f"chdb://{data_dir}", database="otel", port=0)
        app = create_app(settings, store, receiver=False)
        client = app.test_client()
        reads = app.extensions["execlog"].reads
        rng = random.Random(11)
        eid = big.execution_id
        batches = [p * big_execution.GROUP for p in range(steps // big_execution.GROUP)]
        batch_ids = [client.get(f"/api/executions/{eid}/steps?offset={p}&limit=1").get_json()["items"][0]["span_id"]
                     for p in batches[:50]]

        def new_process(_: int) -> str:
            reads.pages.cache = OutlineCache()  # another process: its outline is read back from the kept steps
            reads._finished_heads.clear()
            return f"/api/executions/{eid}"

        def first_open(_: int) -> str:
            reads.pages.store_enabled = False  # the very first open: the outline is built from the spans
            reads.pages.cache = OutlineCache()
            reads._finished_heads.clear()
            return f"/api/executions/{eid}"

        cases = {
            f"detail header + first page, {steps:,} steps (outline cached)": lambda i: f"/api/executions/{eid}",
            f"detail header + first page, {steps:,} steps (new process: outline read back)": new_process,
            f"detail header + first page, {steps:,} steps (very first open: outline built)": first_open,
            "page of 200 steps by offset": lambda i: f"/api/executions/{eid}/steps?offset="
                                                     f"{rng.randrange(0, steps - 200)}&limit=200",
            "page of 200 steps by subtree (unfolded batch)": lambda i: f"/api/executions/{eid}/steps?parent="
                f"{batch_ids[rng.randrange(len(batch_ids))]}&offset={rng.randrange(0, 700)}&limit=200",
            "overview (mini-map)": lambda i: f"/api/executions/{eid}/steps/overview",
            "search (one step's input text)": lambda i: f"/api/executions/{eid}/steps/search?q=record%20number%20"
                                                        f"{rng.randrange(1, steps)}",
            f"compare of two {compare_steps:,}-step attempts": lambda i: f"/api/compare?a={first.execution_id}"
                                                                          f"&a_attempt=1&b={first.execution_id}"
                                                                          f"&b_attempt=2",
            f"detail of a {compare_steps:,}-step execution": lambda i: f"/api/executions/{first.execution_id}"
                                                                        f"?attempt={1 + i % 2}",
        }
        baseline = []
        for _ in range(repeats):
            t = time.perf_counter()
            store.pool.query("SELECT 1")
            baseline.append((time.perf_counter() - t) * 1000)
        for make in cases.values():  # warm-up, not counted
            _timed(client, make(0))
            reads.pages.store_enabled = True
        reads.pages.wait_kept()  # the big attempt's steps are kept after its first open (in the background)
        out: dict[str, dict] = {}
        cpu: dict[str, dict] = {}
        for name, make in cases.items():
            samples = [_timed(client, make(i)) for i in range(repeats)]
            reads.pages.store_enabled = True
            out[name] = summary([w for w, _ in samples])
            cpu[name] = summary([c for _, c in samples])
            log(f"{name}: p50 {out[name]['p50']:.1f} ms, p95 {out[name]['p95']:.1f} ms; "
                f"CPU p50 {cpu[name]['p50']:.1f} ms")
        store.close()
    return {"steps": steps, "compare_steps": compare_steps, "baseline_select1_ms": summary(baseline), "cases": out,
            "cpu_ms": cpu}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    a = p.parse_args()
    emit(run(a.size, SIZES[a.size].query_repeats))
