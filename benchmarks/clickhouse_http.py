"""What the ClickHouse HTTP endpoint adds to the dashboards' panel queries (target: ≤ 10 ms at p50).

Every panel query of the three dashboards (variables at *All*, the last 7 days, expanded as Grafana and
its ClickHouse plugin expand them — the rules of ``tests/test_dashboards.py``) runs alternately:

* in-process, the baseline of the same run: a clickhouse-connect client of the store's URL in this
  process (``raw_query`` in Native: the engine's bytes, no decoding) on the same engine;
* through the endpoint, as the Grafana plugin sends it: ``POST /?database=…&default_format=Native``
  with the SQL as the body, body read to the end — HTTP, authentication, the read-only guard's two
  parser round trips and the pass-through included.

Reported: per query the p50 of each and their difference; overall the median and the largest of the
per-query differences — of the p50s, and of the fastest runs (the endpoint's own cost without the waits
of a busy machine).
"""

from __future__ import annotations

import argparse
import json
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import SIZES, emit, log, settle
from benchmarks.dataset import open_or_generate
from benchmarks.listing_detail import DATA_ROOT, data_dir_for
from benchmarks.stats import summary
from execlog_otel import clickhouse_http
from execlog_otel.config import Settings
from execlog_otel.store.client import connect

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


def panel_queries(database: str, t_to: datetime, days: int = 7, interval_s: int = 3600) -> dict[str, str]:
    """Each panel's SQL with every variable at *All* and the time macros of a ``days`` window."""
    t_from = t_to - timedelta(days=days)
    f, t = int(t_from.timestamp()), int(t_to.timestamp())
    out = {}
    for name in ("execution-overview.json", "agents.json", "automations.json"):
        for panel in json.loads((DASHBOARDS / name).read_text())["panels"]:
            sql = panel["targets"][0]["rawSql"]
            while "$__conditionalAll(" in sql:  # All selected: the condition becomes 1=1
                start = sql.rindex("$__conditionalAll(")
                depth, i = 0, start + len("$__conditionalAll")
                while True:
                    depth += {"(": 1, ")": -1}.get(sql[i], 0)
                    if depth == 0:
                        break
                    i += 1
                sql = sql[:start] + "1=1" + sql[i + 1:]
            sql = re.sub(r"\$\{database\}|\$database\b", database, sql)
            sql = re.sub(r"\$\{trace_id\}|\$trace_id\b", "", sql)
            sql = re.sub(r"\$__timeFilter\(([^)]*)\)",
                         lambda m: f"{m[1].strip()} >= toDateTime({f}) AND {m[1].strip()} <= toDateTime({t})", sql)
            sql = re.sub(r"\$__timeInterval\(([^)]*)\)",
                         lambda m: f"toStartOfInterval(toDateTime({m[1].strip()}), INTERVAL {interval_s} second)", sql)
            sql = sql.replace("$__fromTime", f"toDateTime({f})").replace("$__toTime", f"toDateTime({t})")
            sql = sql.replace("$__interval_s", str(interval_s))
            out[f"{name.removesuffix('.json')}: {panel['title']}"] = sql
    return out


def _post(url: str, sql: str) -> float:
    t = time.perf_counter()
    req = urllib.request.Request(url, data=sql.encode(), method="POST",
                                 headers={"X-ClickHouse-User": "default", "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()
    return (time.perf_counter() - t) * 1000


def run(executions: int, repeats: int, data_dir: Path) -> dict:
    store, ds = open_or_generate(data_dir, executions, log=log)
    settle(store.pool, store.database, ds.spans)
    settings = Settings.from_env(environ={}, clickhouse_url=f"chdb://{data_dir}", database=store.database,
                                 clickhouse_http_port="0", query_timeout_s=60)
    direct_client = connect(settings.store_url)
    endpoint = clickhouse_http.start(settings)
    assert endpoint is not None and endpoint.url
    url = f"{endpoint.url}/?database={store.database}&default_format=Native"
    queries = panel_queries(store.database, datetime.fromtimestamp(ds.newest_ns / 1e9, UTC))
    cases = {}
    try:
        for name, sql in queries.items():
            direct_client.raw_query(sql, fmt="Native")  # warm both paths once
            _post(url, sql)
            direct, via = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                direct_client.raw_query(sql, fmt="Native")
                direct.append((time.perf_counter() - t) * 1000)
                via.append(_post(url, sql))
            d, v = summary(direct), summary(via)
            cases[name] = {"in_process": d, "endpoint": v, "added_p50_ms": v["p50"] - d["p50"],
                           "added_min_ms": v["min"] - d["min"]}
            log(f"{name}: in-process {d['p50']:.1f} ms, endpoint {v['p50']:.1f} ms")
    finally:
        endpoint.close()
        direct_client.close()
        store.close()
    added = sorted(c["added_p50_ms"] for c in cases.values())
    # The fastest of each: what the endpoint itself costs, without the waits of a busy machine.
    added_min = sorted(c["added_min_ms"] for c in cases.values())
    return {"executions": ds.executions, "spans": ds.spans, "queries": len(cases), "cases": cases,
            "added_p50_ms": {"median": added[len(added) // 2], "max": added[-1]},
            "added_min_ms": {"median": added_min[len(added_min) // 2], "max": added_min[-1]}}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    p.add_argument("--executions", type=int, required=True)
    p.add_argument("--data-root", type=Path, default=DATA_ROOT, help="directory holding the kept datasets")
    a = p.parse_args()
    emit(run(a.executions, SIZES[a.size].query_repeats, data_dir_for(a.executions, a.data_root)))
