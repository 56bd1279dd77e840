"""SDK overhead: µs per ``execlog_otel.step()`` carrying typical attributes, against a bare
OpenTelemetry span given the same attributes, both through the same TracerProvider and
BatchSpanProcessor with a no-op exporter.

The step: ``step(name, kind="tool", tool=...)`` with ``set_input`` / ``set_output`` of ~200-byte
dicts and ``record_llm(model, tokens)``, inside an automation. The bare span: the same
attributes (the same dicts serialised with ``json.dumps``) on ``start_as_current_span`` inside a
root span. Rounds alternate between the two; the ratio is taken per round pair. Settings are the
defaults (code capture on).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from benchmarks.common import SIZES, emit, log
from benchmarks.stats import summary

INPUT = {"query": "open invoices for account 4711 created after 2026-01-01", "limit": 50,
         "fields": ["id", "amount", "currency", "due_date", "status"], "page": 1, "requested_by": "ops@example.com"}
OUTPUT = {"rows": 17, "total": 48211.5, "currency": "EUR", "ids": [10341, 10342, 10355, 10367], "next_page": 2,
          "elapsed_ms": 41, "source": "erp-primary"}


class NoopExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def run(size_name: str, profile: bool = False) -> dict:
    import execlog_otel
    from execlog_otel import automation, step

    size = SIZES[size_name]
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-sdk"}))
    handle = execlog_otel.configure(tracer_provider=provider, exporter=NoopExporter(), service_name="bench-sdk")
    tracer = provider.get_tracer("bench-bare")
    n = size.sdk_spans

    def sdk_round() -> float:
        with automation("bench-automation", trigger="manual"):
            t = time.perf_counter()
            for i in range(n):
                with step("sql_query", kind="tool", tool="sql_query") as s:
                    s.set_input(INPUT)
                    s.record_llm(model="gpt-4o-mini", input_tokens=812 + i % 50, output_tokens=164 + i % 30)
                    s.set_output(OUTPUT)
            return (time.perf_counter() - t) / n * 1e6

    def bare_round() -> float:
        with tracer.start_as_current_span("bench-automation"):
            t = time.perf_counter()
            for i in range(n):
                with tracer.start_as_current_span("sql_query", attributes={
                        "execlog.step.kind": "tool", "gen_ai.tool.name": "sql_query",
                        "gen_ai.operation.name": "execute_tool"}) as span:
                    span.set_attribute("execlog.input", json.dumps(INPUT))
                    span.set_attributes({"gen_ai.request.model": "gpt-4o-mini",
                                         "gen_ai.response.model": "gpt-4o-mini",
                                         "gen_ai.usage.input_tokens": 812 + i % 50,
                                         "gen_ai.usage.output_tokens": 164 + i % 30})
                    span.set_attribute("execlog.output", json.dumps(OUTPUT))
                    span.set_attribute("execlog.step.status", "Success")
            return (time.perf_counter() - t) / n * 1e6

    sdk_round()
    bare_round()  # warm-up
    if profile:
        import cProfile
        import pstats

        cProfile.runctx("sdk_round()", globals(), {"sdk_round": sdk_round}, "/tmp/execlog-sdk.prof")
        pstats.Stats("/tmp/execlog-sdk.prof").sort_stats("cumulative").print_stats(30)
    sdk, bare = [], []
    gc.collect()
    for _ in range(size.sdk_rounds):
        sdk.append(sdk_round())
        bare.append(bare_round())
        log(f"step() {sdk[-1]:.1f} µs, bare span {bare[-1]:.1f} µs")
    handle.shutdown()
    ratios = [a / b for a, b in zip(sdk, bare, strict=True)]
    return {"sdk_us": summary(sdk), "bare_us": summary(bare), "ratio": summary(ratios), "spans_per_round": n}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="smoke", choices=sorted(SIZES))
    p.add_argument("--profile", action="store_true", help="print a cProfile of one SDK round to stderr first")
    a = p.parse_args()
    emit(run(a.size, a.profile))
