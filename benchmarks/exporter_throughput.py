"""Exporter throughput: ReadableSpans -> ``ClickHouseSpanExporter.export`` -> embedded store, on one core.

Baseline, in the same process and store: a raw clickhouse-connect column insert of
the same rows already built (what the exporter would cost with zero Python
per span). Rounds alternate between the two so drift on a shared machine hits
both alike. Batches of 512 spans, the BatchSpanProcessor's default.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid

from benchmarks.common import SIZES, emit, log, readable_spans
from benchmarks.stats import summary
from execlog_otel.ingest.exporter import ClickHouseSpanExporter
from execlog_otel.ingest.sink import dedup_settings
from execlog_otel.store.rows import COLUMNS, SpanColumns
from execlog_otel.store.store import Store

BATCH = 512


def run(size_name: str) -> dict:
    size = SIZES[size_name]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # "on one core"
    data_dir = tempfile.mkdtemp(prefix="execlog-bench-export-")
    try:
        store = Store.open(f"chdb://{data_dir}", "otel")
        spans = readable_spans(size.export_spans)
        batches = [spans[i:i + BATCH] for i in range(0, len(spans), BATCH)]
        built = []
        for b in batches:
            cols = SpanColumns()
            cache: dict = {}
            for s in b:
                cols.add_readable_span(s, cache)
            built.append(cols.columns)
        exporter = ClickHouseSpanExporter(store=store)
        table = store.table("otel_traces")

        def export_round() -> float:
            t = time.perf_counter()
            for b in batches:
                exporter.export(b)
            return len(spans) / (time.perf_counter() - t)

        def raw_round() -> float:
            t = time.perf_counter()
            for cols in built:
                # The exporter's insert settings (a fresh deduplication token per batch), so the
                # ratio isolates the Python work per span; identical blocks would be deduplicated otherwise.
                store.client.insert(table, cols, column_names=COLUMNS, column_oriented=True,
                                    settings=dedup_settings(uuid.uuid4().hex))
            return len(spans) / (time.perf_counter() - t)

        export_round()
        raw_round()  # warm-up, not counted
        exp, raw = [], []
        for _ in range(size.export_rounds):
            exp.append(export_round())
            raw.append(raw_round())
            log(f"exporter {exp[-1]:,.0f} spans/s, raw insert {raw[-1]:,.0f} spans/s")
        stored = store.client.query(f"SELECT count() FROM {table}").result_rows[0][0]
        expected = len(spans) * 2 * (size.export_rounds + 1)
        exporter.shutdown()
        store.close()
        ratios = [a / b for a, b in zip(exp, raw, strict=True)]
        return {"exporter": summary(exp), "raw": summary(raw), "ratio": summary(ratios),
                "spans_per_round": len(spans), "batch": BATCH, "stored": int(stored), "expected": expected}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    emit(run(p.parse_args().size))
