"""Exporter throughput: ReadableSpans -> ``ClickHouseSpanExporter.export`` -> embedded store, on one core.

Baseline, in the same process and store: a raw clickhouse-connect column insert of
the same rows already built (what the exporter would cost with zero Python
per span). Rounds alternate between the two so drift on a shared machine hits
both alike. Batches of 512 spans (the BatchSpanProcessor's default) and of 8192
(separating the fixed cost per insert from the cost per span).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from benchmarks.common import SIZES, emit, log, readable_spans
from benchmarks.stats import summary
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.ingest.sink import DIRECT_INSERT
from execlog_otel.store.rows import COLUMNS, SpanColumns
from execlog_otel.store.store import Store

# The BatchSpanProcessor's default batch, and a large one (OTEL_BSP_MAX_EXPORT_BATCH_SIZE=8192).
BATCHES = (512, 8192)


def run(size_name: str) -> dict:
    size = SIZES[size_name]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # "on one core"
    data_dir = tempfile.mkdtemp(prefix="execlog-bench-export-")
    try:
        store = Store.open(f"chdb://{data_dir}", "otel")
        results = [measure(store, size.export_spans, batch, size.export_rounds) for batch in BATCHES]
        store.close()
        return {"by_batch": results}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure(store: Store, span_count: int, batch: int, rounds: int) -> dict:
    """Alternating rounds of exporter and raw inserts in batches of ``batch``; every round makes new
    spans (re-exporting the same span ids would be recognised as already stored)."""
    exporter = ClickHouseSpanExporter(store=store)
    table = store.table("otel_traces")
    before = store.pool.query(f"SELECT count() FROM {table}").result_rows[0][0]

    def batches() -> list:
        spans = readable_spans(span_count)
        return [spans[i:i + batch] for i in range(0, len(spans), batch)]

    def export_round() -> float:
        todo = batches()
        t = time.perf_counter()
        for b in todo:
            exporter.export(b)
        return span_count / (time.perf_counter() - t)

    def raw_round() -> float:
        built = []
        for b in batches():
            cols = SpanColumns()
            cache: dict = {}
            for s in b:
                cols.add_readable_span(s, cache)
            built.append(cols.columns)
        t = time.perf_counter()
        for cols in built:
            # The exporter's own insert settings, so the ratio isolates its Python work per span.
            store.pool.insert(table, cols, column_names=COLUMNS, column_oriented=True, settings=DIRECT_INSERT)
        return span_count / (time.perf_counter() - t)

    export_round()
    raw_round()  # warm-up, not counted
    exp, raw = [], []
    for _ in range(rounds):
        exp.append(export_round())
        raw.append(raw_round())
        log(f"batch {batch}: exporter {exp[-1]:,.0f} spans/s, raw insert {raw[-1]:,.0f} spans/s")
    stored = store.pool.query(f"SELECT count() FROM {table}").result_rows[0][0] - before
    ratios = [a / b for a, b in zip(exp, raw, strict=True)]
    return {"exporter": summary(exp), "raw": summary(raw), "ratio": summary(ratios), "spans_per_round": span_count,
            "batch": batch, "stored": int(stored), "expected": span_count * 2 * (rounds + 1)}

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    emit(run(p.parse_args().size))
