"""``python -m benchmarks [--size smoke|1m|10m|100m] [--only sdk,exporter,ingest,listing,clickhouse,big] [--out FILE]
[--cases PREFIXES] [--executions N]``

Runs each measurement in its own process and writes one Markdown report: the
machine, then a table of medians with their spread and the ratio to a baseline
measured in the same run. ``listing`` also reports bytes on disk per span; ``big``
measures a 100,000-step execution (smoke: 6,000) and Compare of two 1,000-step
attempts. The 1m/10m datasets are generated once under /tmp and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SIZES
from benchmarks.stats import fmt

MEASUREMENTS = ("sdk", "exporter", "ingest", "listing", "clickhouse", "big")
ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    "listing": (100.0, 300.0),  # p50, p95 ms
    "detail": 150.0,  # p50 ms
    "clickhouse_added": 10.0,  # p50 ms the ClickHouse HTTP endpoint adds to a panel query
    "insights": (150.0, 400.0),  # p50, p95 ms
    "search": (150.0, 400.0),  # p50, p95 ms
    "payload_search": 500.0,  # p50 ms
    "growth": 1.5,  # p50 of the largest dataset over the one before it
    "rss_mib": 1536.0,
    # bytes on disk per span with derived tables: 100 at 10 M (issue #8), 80 at 100 M (issue #19)
    "bytes_per_span": 100.0,
    "bytes_per_span_100m": 80.0,
    "totals_added": 30.0,  # p50 ms the totals add to the listing's p50
    "big_detail": 150.0,  # p50 ms: a big execution's header and first page of steps
    "big_page": 100.0,  # p50 ms: a page of 200 steps, by offset or subtree
    "compare": 300.0,  # p50 ms: Compare of two 1,000-step attempts
}


def _big_target(name: str) -> float | None:
    if name.startswith("detail header"):
        return TARGETS["big_detail"]
    if name.startswith("page of"):
        return TARGETS["big_page"]
    if name.startswith("compare"):
        return TARGETS["compare"]
    return None


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = int(next(x for x in meminfo if x.startswith("MemTotal")).split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{os.cpu_count()} CPUs (nproc {nproc}), {ram}, {cpu or platform.processor()}; "
            f"Python {platform.python_version()}, {platform.system()}")


def run_module(module: str, args: list[str]) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module>`` and return the result it printed."""
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}); see its output above")
    return json.loads(lines[-1].removeprefix("BENCH-RESULT "))


def _spread(s: dict[str, float], unit: str = "", digits: int = 1) -> str:
    lo, hi = fmt(s["min"], digits), fmt(s["max"], digits)
    return f"p95 {fmt(s['p95'], digits)}{unit}, min–max {lo}–{hi}{unit} (n={s['n']})"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(results: dict[str, Any]) -> str:
    rows = ["| measurement | median (p50) | spread | baseline, same run (p50) | ratio (p50) | target | met |",
            "|---|---|---|---|---|---|---|"]
    if "sdk" in results:
        r = results["sdk"]
        rows.append(f"| SDK: µs per `step()` with typical attributes | {fmt(r['sdk_us']['p50'])} µs | "
                    f"{_spread(r['sdk_us'], ' µs')} | bare OTel span, same attributes: {fmt(r['bare_us']['p50'])} µs "
                    f"| {r['ratio']['p50']:.2f}× (p95 {r['ratio']['p95']:.2f}×) | ≤ 1.3× | "
                    f"{_met(r['ratio']['p50'] <= 1.3)} |")
    for r in results.get("exporter", {}).get("by_batch", []):
        ok = r["exporter"]["p50"] >= 50_000 and r["ratio"]["p50"] >= 0.5
        rows.append(f"| Exporter: spans/s, ReadableSpans → `ClickHouseSpanExporter` → embedded store, one core, "
                    f"batches of {r['batch']} | {fmt(r['exporter']['p50'])} | {_spread(r['exporter'])} | "
                    f"raw clickhouse-connect column insert of the built rows: {fmt(r['raw']['p50'])} spans/s | "
                    f"{r['ratio']['p50']:.2f}× | ≥ 50,000 spans/s and ≥ 0.5× | {_met(ok)} |")
    if "ingest" in results:
        r = results["ingest"]
        base = r["raw"]["spans_per_s"]["p50"]
        batch = f"{r['raw']['batch']:,}"
        base_txt = f"raw clickhouse-connect insert of the same rows, batches of {batch}: {fmt(base)} spans/s"
        for mode, how, want in (("exporter", "the OTLP/HTTP protobuf exporter encoding live", 0.6),
                                ("preencoded", "bodies of that exporter encoded beforehand (server's share)", 1.0)):
            m = r[mode]
            ratio = m["spans_per_s"]["p50"] / base
            met = _met(ratio >= want)
            rows.append(f"| OTLP ingest: spans/s persisted by `execlog serve`, {r['clients']} client processes, {how} "
                        f"({m['stored']:,} of {m['sent']:,} spans stored) | {fmt(m['spans_per_s']['p50'])} | "
                        f"{_spread(m['spans_per_s'])} | {base_txt} | {ratio:.2f}× | ≥ {want}× | {met} |")
        a = r["ack"]
        met = _met(a["p99_ms"] <= 50)
        disk = a["fsync_ms"]
        rows.append(f"| OTLP ingest: ms to acknowledgement at half the sustained rate ({fmt(a['rate'])} spans/s, "
                    f"pre-encoded, paced) | {fmt(a['ms']['p50'], 1)} ms | p99 {fmt(a['p99_ms'], 1)} ms, max "
                    f"{fmt(a['ms']['max'], 1)} ms (n={a['ms']['n']}) | the disk alone, just before: append and "
                    f"fsync one body at the same pace, p50 {fmt(disk['p50'], 1)} ms, p99 {fmt(disk['p99'], 1)} ms | "
                    f"p99 {a['p99_ms'] / max(disk['p99'], 0.001):.2f}× the disk's | p99 ≤ 50 ms | {met} |")
    rows += _listing_rows(results.get("listing", []))
    rows += _growth_rows(results.get("listing", []))
    for ds in results.get("clickhouse", []):
        added = ds["added_p50_ms"]
        base = sorted(c["in_process"]["p50"] for c in ds["cases"].values())
        ok = added["median"] <= TARGETS["clickhouse_added"]
        rows.append(f"| {ds['spans'] / 1e6:.2f} M spans: ClickHouse HTTP endpoint, ms added per dashboard panel "
                    f"query ({ds['queries']} queries, Native, as Grafana sends them) | {fmt(added['median'], 2)} ms "
                    f"(median of per-query p50 differences) | largest {fmt(added['max'], 2)} ms; fastest runs: "
                    f"median {fmt(ds['added_min_ms']['median'], 2)} ms added | same queries "
                    f"in-process (store client, Native bytes): median p50 {fmt(base[len(base) // 2], 2)} ms | – | "
                    f"≤ 10 ms added at p50 | {_met(ok)} |")
    if "big" in results:
        rows += big_rows(results["big"])
    return "\n".join(rows)


def _listing_rows(listing: list[dict[str, Any]]) -> list[str]:
    rows: list[str] = []
    for ds in listing:
        label = f"{ds['spans'] / 1e6:.2f} M spans / {ds['executions']:,} executions"
        base = ds["baseline_select1_ms"]["p50"]
        for name, s in ds["cases"].items():
            if "error" in s:
                rows.append(f"| {label}: {name} | failed | {s['error'][:160]} | – | – | – | **no** |")
                continue
            if name.startswith("listing: totals"):
                target, ok = "adds ≤ 30 ms to the listing's p50", s["p50"] <= TARGETS["totals_added"]
            elif name.startswith("detail"):
                target, ok = "p50 ≤ 150 ms", s["p50"] <= TARGETS["detail"]
            elif name.startswith("listing: payload search"):
                target, ok = "p50 ≤ 500 ms", s["p50"] <= TARGETS["payload_search"]
            elif name == "listing: search":
                target = "p50 ≤ 150 ms, p95 ≤ 400 ms"
                ok = s["p50"] <= TARGETS["search"][0] and s["p95"] <= TARGETS["search"][1]
            elif name.startswith("insights"):
                target = "p50 ≤ 150 ms, p95 ≤ 400 ms"
                ok = s["p50"] <= TARGETS["insights"][0] and s["p95"] <= TARGETS["insights"][1]
            else:
                target = "p50 ≤ 100 ms, p95 ≤ 300 ms"
                ok = s["p50"] <= TARGETS["listing"][0] and s["p95"] <= TARGETS["listing"][1]
            rows.append(f"| {label}: {name} | {fmt(s['p50'])} ms | {_spread(s, ' ms')} | `SELECT 1` round trip: "
                        f"{fmt(base, 2)} ms | {s['p50'] / base:.0f}× | {target} | {_met(ok)} |")
        st = ds["storage"]
        most = TARGETS["bytes_per_span_100m" if ds["executions"] >= 10_000_000 else "bytes_per_span"]
        rows.append(f"| {label}: bytes on disk per span | {st['otel_traces_bytes_per_span']:.1f} B (otel_traces) | "
                    f"{st['total_bytes_per_span']:.1f} B with derived tables | – | – | ≤ {most:.0f} B/span | "
                    f"{_met(st['total_bytes_per_span'] <= most)} |")
        if "memory" in ds:
            mem = ds["memory"]
            rows.append(f"| {label}: resident memory of the serving process (app + embedded engine) | "
                        f"{fmt(mem['peak_rss_mib'])} MiB (peak) | {fmt(mem['rss_mib'])} MiB at the end | – | – | "
                        f"≤ 1.5 GB | {_met(mem['peak_rss_mib'] <= TARGETS['rss_mib'])} |")
    return rows


def _growth_rows(listing: list[dict[str, Any]]) -> list[str]:
    """How much each request's p50 grew from the second-largest dataset to the largest (10 M -> 100 M spans)."""
    if len(listing) < 2:
        return []
    small, big = listing[-2], listing[-1]
    label = f"growth {small['spans'] / 1e6:.0f} M → {big['spans'] / 1e6:.0f} M spans"
    rows = []
    for name, s in big["cases"].items():
        before = small["cases"].get(name)
        if before is None or name.startswith("insights") or "error" in s or "error" in before:
            continue
        ratio = s["p50"] / before["p50"]
        rows.append(f"| {label}: {name} | {ratio:.2f}× | {fmt(before['p50'])} → {fmt(s['p50'])} ms (p50) | – | – | "
                    f"≤ {TARGETS['growth']}× | {_met(ratio <= TARGETS['growth'])} |")
    return rows


def big_rows(r: dict[str, Any]) -> list[str]:
    base = r["baseline_select1_ms"]["p50"]
    rows = []
    for name, st in r["cases"].items():
        target = _big_target(name)
        cpu = r.get("cpu_ms", {}).get(name)
        spread = _spread(st, ' ms') + (f"; CPU p50 {fmt(cpu['p50'])} ms" if cpu else "")
        rows.append(f"| Big execution: {name} | {fmt(st['p50'])} ms | {spread} | `SELECT 1` round "
                    f"trip: {fmt(base, 2)} ms | {st['p50'] / base:.0f}× | "
                    f"{f'p50 ≤ {target:.0f} ms' if target else 'reported'} | "
                    f"{_met(st['p50'] <= target) if target else '–'} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    p.add_argument("--only", default=",".join(MEASUREMENTS),
                   help=f"comma-separated subset of {', '.join(MEASUREMENTS)}")
    p.add_argument("--out", type=Path, help="write the Markdown report here too")
    p.add_argument("--data-root", type=Path, help="where the listing datasets live (default /tmp)")
    p.add_argument("--cases", default="",
                   help="listing: prefixes of the request kinds to measure ('insights,listing: totals')")
    p.add_argument("--executions", default="",
                   help="listing: comma-separated dataset sizes in executions (default: the size's)")
    a = p.parse_args(argv)
    only = [m.strip() for m in a.only.split(",") if m.strip()]
    unknown = set(only) - set(MEASUREMENTS)
    if unknown:
        p.error(f"--only: unknown measurement(s) {', '.join(sorted(unknown))}; choose from {', '.join(MEASUREMENTS)}")
    size = SIZES[a.size]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: dict[str, Any] = {}
    modules = {"sdk": "sdk_overhead", "exporter": "exporter_throughput", "ingest": "otlp_ingest", "big": "big_detail"}
    for m in MEASUREMENTS:
        if m not in only:
            continue
        if m in ("listing", "clickhouse"):
            results[m] = []
            sizes = [int(x) for x in a.executions.split(",") if x.strip()] or size.executions
            for executions in sizes if m == "listing" else sizes[-1:]:
                extra = ["--executions", str(executions)]
                if a.data_root:
                    extra += ["--data-root", str(a.data_root)]
                if a.cases and m == "listing":
                    extra += ["--cases", a.cases]
                module = "listing_detail" if m == "listing" else "clickhouse_http"
                results[m].append(run_module(module, ["--size", a.size, *extra]))
        else:
            results[m] = run_module(modules[m], ["--size", a.size])
    report = (f"Size `{a.size}`, run {started} on: {machine()}.\n\n{table(results)}\n")
    sys.stdout.write("\n" + report)
    if a.out:
        a.out.write_text(report)
        a.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
