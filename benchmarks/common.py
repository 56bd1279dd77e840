"""Helpers shared by the measurement modules: size presets, result output, span builders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass(frozen=True)
class Size:
    name: str
    sdk_spans: int  # spans per timed SDK round
    sdk_rounds: int
    export_spans: int  # spans per exporter round
    export_rounds: int
    ingest_spans: int  # spans per OTLP client
    ingest_clients: int
    ingest_rounds: int  # each round a fresh execlog serve
    executions: list[int]  # datasets for the listing/detail measurement
    query_repeats: int
    insights: bool = True  # the insights charts too (the 100 m size measures the rows only)


SIZES = {
    "smoke": Size("smoke", 200, 3, 1024, 2, 1024, 2, 1, [300], 3),
    "1m": Size("1m", 5_000, 15, 25_600, 5, 25_600, 4, 3, [100_000], 30),
    "10m": Size("10m", 5_000, 15, 25_600, 5, 25_600, 4, 3, [100_000, 1_000_000], 30),
    # ~100 M spans / 10 M executions over 30 days, with the 10 M dataset of the same run for the growth.
    "100m": Size("100m", 5_000, 15, 25_600, 5, 25_600, 4, 3, [1_000_000, 10_000_000], 30, insights=False),
}

# A typical step's attributes: name, kind, tool, model, tokens and ~200-byte JSON input and output.
STEP_INPUT = json.dumps({"query": "open invoices for account 4711 created after 2026-01-01", "limit": 50,
                         "fields": ["id", "amount", "currency", "due_date", "status"], "page": 1,
                         "requested_by": "ops@example.com"}, separators=(",", ":"))
STEP_OUTPUT = json.dumps({"rows": 17, "total": 48211.5, "currency": "EUR", "ids": [10341, 10342, 10355, 10367],
                          "next_page": 2, "elapsed_ms": 41, "source": "erp-primary"}, separators=(",", ":"))


def step_attributes(i: int = 0) -> dict[str, Any]:
    return {
        "execlog.step.kind": "tool", "execlog.step.status": "Success", "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "sql_query", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 812 + i % 50, "gen_ai.usage.output_tokens": 164 + i % 30,
        "execlog.input": STEP_INPUT, "execlog.output": STEP_OUTPUT,
    }


def readable_spans(count: int, spans_per_trace: int = 10) -> list[ReadableSpan]:
    """Real SDK spans (a root and steps per trace) with typical attributes, recorded in memory."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-runner"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("execlog_otel", "0.1.0")
    made = 0
    while made < count:
        with tracer.start_as_current_span("nightly-sync", attributes={
                "execlog.kind": "automation", "execlog.execution.name": "nightly-sync",
                "execlog.status": "Success", "execlog.input": STEP_INPUT, "execlog.output": STEP_OUTPUT}):
            made += 1
            for i in range(min(spans_per_trace - 1, count - made)):
                with tracer.start_as_current_span("sql_query", attributes=step_attributes(i)):
                    pass
                made += 1
    provider.shutdown()
    return list(memory.get_finished_spans())


def emit(result: dict[str, Any]) -> None:
    """The measurement's result, as the last line of stdout (read by ``__main__``)."""
    sys.stdout.write("BENCH-RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def merge_past_days(client: Any, database: str) -> int:
    """Bring the tables that force-merge their days (``min_age_to_force_merge_seconds``, migration 039) to the
    state they reach by themselves ten minutes after a day's last write: each partition in one part. A store
    in use is in that state for every past day; a dataset generated a moment ago is not yet (its rollups keep
    the spans' and the costs' parts apart). Partitions already in one part are left alone; how many were merged."""
    rows = client.query(
        "SELECT p.table, p.partition_id FROM system.parts AS p"
        " INNER JOIN system.tables AS t ON t.database = p.database AND t.name = p.table"
        " WHERE p.active AND p.database = {db:String}"
        " AND t.engine_full LIKE '%min_age_to_force_merge_seconds%'"
        " GROUP BY p.table, p.partition_id HAVING count() > 1",
        parameters={"db": database}).result_rows
    for table, partition_id in rows:
        # Identifiers from system.parts of this store, not user input; OPTIMIZE cannot bind them.
        client.command(f"OPTIMIZE TABLE `{database}`.`{table}` PARTITION ID '{partition_id}' FINAL")
    return len(rows)


def wait_merges(client: Any, database: str, timeout_s: float = 600) -> float:
    """Wait until no merge runs and no mutation is pending in ``database`` (background merges settled, an
    upgrade's mutations done); seconds waited."""
    t = time.perf_counter()
    quiet = 0
    while time.perf_counter() - t < timeout_s:
        busy = client.query("SELECT (SELECT count() FROM system.merges WHERE database = {db:String}) + "
                            "(SELECT count() FROM system.mutations WHERE database = {db:String} AND NOT is_done)",
                            parameters={"db": database}).result_rows[0][0]
        quiet = quiet + 1 if not busy else 0
        if quiet >= 3:
            break
        time.sleep(1)
    return time.perf_counter() - t


def settle(client: Any, database: str, spans: int) -> float:
    """A measured dataset's store made ready: past days merged as the store keeps them (``merge_past_days``),
    then background merges settled (``wait_merges``); seconds waited."""
    merged = merge_past_days(client, database)
    waited = wait_merges(client, database)
    log(f"{spans:,} spans; {merged} day partitions merged as the store merges them (migration 039); "
        f"merges settled after {waited:.0f} s")
    return waited


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``EXECLOG_*`` and ``OTEL_*`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    env.update(extra)
    return env


def ready_line(stdout: Any, timeout_s: float = 60) -> tuple[dict[str, Any], list[str]]:
    """Read a server's stdout up to its ready line (``{"event": "ready", "url": ...}``); (that line, lines read)."""
    deadline = time.monotonic() + timeout_s
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "ready":
                return event, lines
    return {}, lines


class ServeProcess:
    """``execlog serve --port 0`` as a real subprocess on ``data_dir``, returned once its ready line says where
    it listens (``url``). Its stderr goes to ``log_path``; its stdout is drained so it never blocks."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 60,
                 verbose: bool = False) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{time.time_ns()}.log"
        self._log = open(self.log_path, "wb")  # closed by stop() or kill9()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "execlog_otel.cli", *(["-v"] if verbose else []), "serve",
             "--data", str(data_dir), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env=env if env is not None else clean_env())
        self.ready, lines = ready_line(self.proc.stdout, timeout_s)
        if not self.ready:
            self.proc.kill()
            self.proc.wait()
            self._log.close()
            raise RuntimeError(f"execlog serve did not start: {''.join(lines)} {self.stderr()}")
        self.url: str = self.ready["url"]
        self.stdout_lines = lines
        self._drain = threading.Thread(target=lambda: self.stdout_lines.extend(self.proc.stdout), daemon=True)
        self._drain.start()

    def output(self) -> str:
        """What it printed on stdout so far (all of it once stopped)."""
        return "".join(self.stdout_lines)

    def stderr(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM (a clean stop: everything received is stored), then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._drain.join(timeout=10)
        self._log.close()
        return self.proc.returncode

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
