"""A synthetic execution log generated inside ClickHouse with SQL (no Python per span).

``generate(store, executions)`` inserts about ten spans per execution into
``otel_traces`` over the last 29.5 days, in chunks of whole executions so one
trace never straddles two inserts; the materialized views fill
``execlog_executions``, ``execlog_trace_rollups`` and ``otel_traces_trace_id_ts``
as they would for real spans. The mix: agents and automations, 3-200 steps
(a geometric body with a 1 % tail of 50-200), every status (live ones as state
markers under an open root), tokens, models, tools, connectors, random ids,
request ids and target record ids. One execution has exactly 1,000 steps.
Every value is a deterministic hash of (execution, step), so a size always
produces the same data.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from execlog_otel.store.store import Store

SPAN_WINDOW_DAYS = 29.5
BIG_STEPS = 1000
PROJECTS = 20  # executions are spread over this many projects (execlog.project), at random
SPANS_PER_EXECUTION = 10  # roughly: the step distribution below averages about 9 steps plus the root

# The mix as ClickHouse array literals (constants of the generator, not user input).
_AGENTS = ["support-triage", "research-assistant", "sales-copilot", "code-reviewer", "invoice-reader",
           "onboarding-guide", "churn-analyst", "email-drafter", "meeting-summarizer", "kb-curator",
           "lead-qualifier", "incident-responder"]
_AUTOMATIONS = ["sync-crm-contacts", "new-order-to-erp", "ticket-escalation", "daily-report", "invoice-approval",
                "lead-enrichment", "slack-digest", "refund-workflow", "inventory-reorder", "user-provisioning",
                "webhook-fanout", "nps-survey", "contract-renewal", "backup-verify", "payroll-export",
                "gdpr-erasure", "shipment-tracking", "quote-to-cash", "expense-audit", "calendar-sync"]
_SERVICES = ["agents-api", "automation-runner", "billing-worker", "support-bot", "ops-jobs"]
_MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "claude-3-5-haiku", "llama-3.1-70b"]
_TOOLS = ["web_search", "sql_query", "http_get", "calculator", "vector_lookup", "send_email", "create_ticket",
          "read_file", "summarize", "translate"]
_CONNECTORS = ["salesforce", "hubspot", "slack", "gmail", "zendesk", "stripe", "postgres", "jira"]
_ACTIONS = ["validate_input", "transform_record", "upsert_record", "notify_owner", "compute_totals",
            "fetch_record", "apply_rules", "write_audit", "render_template", "enqueue_followup"]
_EVENTS = ["record.created", "record.updated", "schedule.tick", "webhook.received", "message.posted"]
_TARGETS = ["Contact", "Order", "Ticket", "Invoice", "Lead", "Account", "Shipment"]
# Cumulative per-mille thresholds of the execution statuses.
_STATUS_MIX = [("Success", 780), ("Failed", 880), ("Partially Executed", 920), ("Rejected", 940),
               ("Running", 960), ("Queued", 975), ("Pending", 990), ("Paused", 1000)]


def _arr(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def _status_expr(h: str) -> str:
    parts = []
    for name, upto in _STATUS_MIX[:-1]:
        parts.append(f"{h} % 1000 < {upto}, '{name}'")
    return "multiIf(" + ", ".join(parts) + f", '{_STATUS_MIX[-1][0]}')"


# Per-execution columns, from e (the execution number) and the anchor/spacing parameters.
_EXECUTIONS = f"""
SELECT
    number AS e,
    cityHash64(e, 1) % 10 < 6 AS is_agent,
    if(is_agent, {_arr(_AGENTS)}[1 + cityHash64(e, 2) % {len(_AGENTS)}],
                 {_arr(_AUTOMATIONS)}[1 + cityHash64(e, 2) % {len(_AUTOMATIONS)}]) AS exec_name,
    {_arr(_SERVICES)}[1 + cityHash64(e, 3) % {len(_SERVICES)}] AS service,
    {_status_expr('cityHash64(e, 4)')} AS status,
    status IN ('Running', 'Queued', 'Pending', 'Paused') AS live,
    multiIf(e = {{big:UInt64}}, {BIG_STEPS},
            cityHash64(e, 5) % 100 = 0, 50 + cityHash64(e, 6) % 151,
            least(200, 3 + toUInt32(floor(-log((cityHash64(e, 7) % 1000000 + 1) / 1000001.) * 5)))) AS steps,
    toInt64({{t0:Int64}} + e * {{spacing:Int64}} + cityHash64(e, 8) % {{spacing:Int64}}) AS start_ns,
    leftPad(lower(hex(cityHash64(e, 9))), 16, '0') || leftPad(lower(hex(cityHash64(e, 10))), 16, '0') AS trace_id,
    leftPad(lower(hex(cityHash64(e, 11))), 16, '0') AS root_id,
    if(cityHash64(e, 12) % 2 = 0, 'req-' || leftPad(lower(hex(cityHash64(e, 13))), 16, '0'), '') AS request_id,
    {_arr(_TARGETS)}[1 + cityHash64(e, 14) % {len(_TARGETS)}] AS target,
    if(is_agent, '', toString(cityHash64(e, 15) % 90000000 + 10000000)) AS target_record_id,
    if(is_agent, '', {_arr(_EVENTS)}[1 + cityHash64(e, 16) % {len(_EVENTS)}]) AS event
FROM numbers({{first:UInt64}}, {{count:UInt64}})
"""

# One row per span: i = 0 is the root (or, for a live execution, its state marker), 1..steps the steps.
_SPANS = f"""
INSERT INTO {{database}}.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes,
     ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage)
SELECT
    fromUnixTimestamp64Nano(if(i = 0, start_ns, start_ns + i * 180000000 + toInt64(cityHash64(e, i, 20) % 90000000)))
        AS Timestamp,
    trace_id AS TraceId,
    if(i = 0, if(live, leftPad(lower(hex(cityHash64(e, 21))), 16, '0'), root_id),
       leftPad(lower(hex(cityHash64(e, i, 22))), 16, '0')) AS SpanId,
    if(i = 0 AND NOT live, '', root_id) AS ParentSpanId,
    '' AS TraceState,
    multiIf(i = 0 AND live, 'execlog.state', i = 0, exec_name,
            step_kind = 'llm', 'chat ' || model, step_kind = 'tool', 'execute_tool ' || tool,
            step_kind = 'connector', connector || '.request', step_kind = 'trigger', 'trigger', action) AS SpanName,
    'Internal' AS SpanKind,
    service AS ServiceName,
    map('service.name', service, 'telemetry.sdk.language', 'python', 'telemetry.sdk.name', 'opentelemetry',
        'telemetry.sdk.version', '1.27.0', 'host.name', service || '-' || toString(cityHash64(e, 23) % 4),
        'execlog.project', 'team-' || leftPad(toString(cityHash64(e, 31) % {PROJECTS}), 2, '0'))
        AS ResourceAttributes,
    'execlog_otel' AS ScopeName,
    '0.1.0' AS ScopeVersion,
    if(i = 0,
       mapFilter((k, v) -> v != '', map(
           'execlog.kind', if(is_agent, 'agent', 'automation'),
           'execlog.execution.name', exec_name,
           'execlog.status', status,
           'execlog.marker', if(live, 'state', ''),
           'execlog.execution.start_time_unix_nano', if(live, toString(start_ns), ''),
           'execlog.attempt.start_time_unix_nano', if(live, toString(start_ns), ''),
           'execlog.request_id', request_id,
           'execlog.target', target,
           'execlog.target_record_id', target_record_id,
           'execlog.event', event,
           'execlog.triggered_by', if(is_agent, 'user:' || toString(cityHash64(e, 24) % 5000), 'trigger'),
           'execlog.input', '{{"' || lower(target) || '_id":"' || target_record_id || '","request":"'
               || request_id || '","text":"please handle item ' || toString(cityHash64(e, 25) % 100000)
               || ' for account ' || toString(cityHash64(e, 26) % 20000) || '","priority":"'
               || ['low', 'normal', 'high'][1 + cityHash64(e, 27) % 3] || '"}}',
           'execlog.output', if(live, '', '{{"ok":' || if(status = 'Success', 'true', 'false') || ',"items":'
               || toString(cityHash64(e, 28) % 50) || ',"summary":"processed ' || toString(steps)
               || ' steps for ' || target || ' ' || target_record_id || '"}}'),
           'execlog.validation_message', if(status IN ('Failed', 'Rejected'),
               'step ' || toString(1 + cityHash64(e, 29) % steps) || ' failed: upstream returned 502', ''),
           'gen_ai.agent.name', if(is_agent, exec_name, ''),
           'gen_ai.operation.name', if(is_agent, 'invoke_agent', 'invoke_workflow'))),
       mapFilter((k, v) -> v != '', map(
           'execlog.step.kind', step_kind,
           'execlog.step.status', step_status,
           'gen_ai.operation.name', multiIf(step_kind = 'llm', 'chat', step_kind = 'tool', 'execute_tool', ''),
           'gen_ai.request.model', if(step_kind = 'llm', model, ''),
           'gen_ai.response.model', if(step_kind = 'llm', model, ''),
           'gen_ai.usage.input_tokens', if(step_kind = 'llm', toString(50 + cityHash64(e, i, 30) % 4000), ''),
           'gen_ai.usage.output_tokens', if(step_kind = 'llm', toString(10 + cityHash64(e, i, 31) % 1000), ''),
           'gen_ai.tool.name', if(step_kind = 'tool', tool, ''),
           'execlog.connector', if(step_kind = 'connector', connector, ''),
           'execlog.input', if(step_kind IN ('tool', 'connector', 'action'),
               '{{"id":' || toString(cityHash64(e, i, 32) % 1000000) || ',"op":"' || action || '"}}', ''),
           'execlog.output', if(step_kind IN ('tool', 'connector', 'action') AND step_status = 'Success',
               '{{"status":200,"rows":' || toString(cityHash64(e, i, 33) % 100) || '}}', ''),
           'code.function.name', action,
           'code.file.path', 'app/' || service || '/steps.py',
           'code.line.number', toString(20 + cityHash64(action) % 400)))) AS SpanAttributes,
    toUInt64(if(i = 0, if(live, 0, steps * 180000000 + 50000000 + cityHash64(e, 34) % 1000000000),
                20000000 + cityHash64(e, i, 35) % 160000000)) AS Duration,
    if(step_status = 'Failed' OR (i = 0 AND status IN ('Failed', 'Rejected')), 'Error', 'Unset') AS StatusCode,
    if(step_status = 'Failed', 'upstream returned 502', '') AS StatusMessage
FROM (
    SELECT *,
        arrayJoin(range(toUInt32(steps) + 1)) AS i,
        multiIf(i = 0, '', i = 1 AND NOT is_agent, 'trigger',
                cityHash64(e, i, 40) % 10 < if(is_agent, 4, 1), 'llm',
                cityHash64(e, i, 40) % 10 < if(is_agent, 8, 3), 'tool',
                cityHash64(e, i, 40) % 10 < if(is_agent, 9, 6), 'connector', 'action') AS step_kind,
        {_arr(_MODELS)}[1 + cityHash64(e, i, 41) % {len(_MODELS)}] AS model,
        {_arr(_TOOLS)}[1 + cityHash64(e, i, 42) % {len(_TOOLS)}] AS tool,
        {_arr(_CONNECTORS)}[1 + cityHash64(e, i, 43) % {len(_CONNECTORS)}] AS connector,
        {_arr(_ACTIONS)}[1 + cityHash64(e, i, 44) % {len(_ACTIONS)}] AS action,
        multiIf(i = 0, '',
                live AND i = steps, 'Running',
                status IN ('Failed', 'Rejected') AND i = 1 + cityHash64(e, 29) % steps, 'Failed',
                status = 'Partially Executed' AND cityHash64(e, i, 45) % 4 = 0, 'Skipped',
                cityHash64(e, i, 46) % 200 = 0, 'Skipped', 'Success') AS step_status
    FROM ({_EXECUTIONS})
)
"""


@dataclass
class Dataset:
    executions: int
    spans: int
    big_execution_id: str
    newest_ns: int
    seconds: float


def project_name(n: int) -> str:
    """The n-th of the PROJECTS projects the executions are spread over (execlog.project)."""
    return f"team-{n % PROJECTS:02d}"


def spacing_ns(executions: int) -> int:
    return int(SPAN_WINDOW_DAYS * 86400e9 / executions)


def generate(store: Store, executions: int, chunk_executions: int = 100_000, log=print) -> Dataset:
    """Insert ``executions`` executions (about 10 spans each); returns what was made."""
    t_start = time.perf_counter()
    spacing = spacing_ns(executions)
    newest = time.time_ns()
    t0 = newest - spacing * executions
    big = executions // 2
    sql = _SPANS.replace("{database}", store.database)
    for first in range(0, executions, chunk_executions):
        count = min(chunk_executions, executions - first)
        t = time.perf_counter()
        store.pool.command(sql, parameters={"first": first, "count": count, "big": big, "t0": t0,
                                              "spacing": spacing},
                             settings={"max_insert_block_size": 1_048_576, "min_insert_block_size_rows": 1_048_576,
                                       "max_threads": 2})
        log(f"  executions {first:>9,}..{first + count - 1:,} in {time.perf_counter() - t:.1f} s")
    big_id = store.pool.query(
        "SELECT leftPad(lower(hex(cityHash64({e:UInt64}, 9))), 16, '0') "
        "|| leftPad(lower(hex(cityHash64({e:UInt64}, 10))), 16, '0')",
        parameters={"e": big}).result_rows[0][0]
    spans = int(store.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0])
    return Dataset(executions, spans, big_id, newest, time.perf_counter() - t_start)


MANIFEST = "benchmark-dataset.json"
GENERATOR_VERSION = 3  # bump when the generated data changes; kept datasets of other versions are remade


def open_or_generate(data_dir: Path, executions: int, database: str = "otel", log=print,
                     pool_size: int = 1) -> tuple[Store, Dataset]:
    """Open the dataset kept in ``data_dir`` (made once, reused between runs), generating it if missing; the
    store with a pool of ``pool_size`` clients."""
    manifest = data_dir / MANIFEST
    url = f"chdb://{data_dir}"
    if manifest.exists():
        kept = json.loads(manifest.read_text())
        if kept.pop("generator", None) == GENERATOR_VERSION and kept.get("executions") == executions:
            return Store.open(url, database, pool_size=pool_size), Dataset(**kept)
        log(f"{data_dir} holds a dataset of another size or generator; regenerating")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    store = Store.open(url, database, pool_size=pool_size)
    log(f"generating {executions:,} executions (~{executions * SPANS_PER_EXECUTION:,} spans) in {data_dir}")
    made = generate(store, executions, log=log)
    manifest.write_text(json.dumps({**asdict(made), "generator": GENERATOR_VERSION}))
    return store, made
