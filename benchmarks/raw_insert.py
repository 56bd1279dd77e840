"""Baseline of the OTLP ingest measurement: a raw clickhouse-connect insert of the same rows in batches of 8,192.

The rows are the ones ``execlog serve`` stores for the ingest clients' spans (same generator, same count),
built before the clock starts; they are inserted column-oriented into a fresh embedded store with the
project's schema (materialized views included), with the server's insert settings. Run as its own process:
chDB lets one process open one data directory.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

from benchmarks.common import SIZES, emit, log, readable_spans
from benchmarks.stats import summary
from execlog_otel.ingest.sink import DIRECT_INSERT
from execlog_otel.store.rows import COLUMNS, SpanColumns
from execlog_otel.store.store import Store

RAW_BATCH = 8192
INSERT_SETTINGS = DIRECT_INSERT  # what the server's writer sends for a first insert


def run(size_name: str) -> dict:
    size = SIZES[size_name]
    total = size.ingest_spans * size.ingest_clients
    data_dir = tempfile.mkdtemp(prefix="execlog-bench-raw-")
    try:
        store = Store.open(f"chdb://{data_dir}", "otel")
        table = store.table("otel_traces")
        rates = []
        for _ in range(size.ingest_rounds + 1):  # the first round warms up and is not counted
            spans = readable_spans(total)
            built = []
            for i in range(0, len(spans), RAW_BATCH):
                cols, cache = SpanColumns(), {}
                for s in spans[i:i + RAW_BATCH]:
                    cols.add_readable_span(s, cache)
                built.append(cols.columns)
            t = time.perf_counter()
            for cols in built:
                store.pool.insert(table, cols, column_names=COLUMNS, column_oriented=True,
                                    settings=INSERT_SETTINGS)
            rates.append(total / (time.perf_counter() - t))
            log(f"raw insert, batches of {RAW_BATCH}: {rates[-1]:,.0f} spans/s")
        store.close()
        return {"spans_per_s": summary(rates[1:]), "batch": RAW_BATCH, "spans": total}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    emit(run(p.parse_args().size))
