"""One execution of many nested steps with payloads, generated inside ClickHouse (one INSERT … SELECT).

Shape: the root (an agent), then groups of 1,000 steps: a "batch" node holding 19 "item" nodes of 50
steps each (49 leaves: llm / tool / action with input and output JSON). Three levels under the root;
steps start 10 µs apart, in order, so the depth-first order is the step number. Every 4,999th leaf
fails, and one leaf (about three quarters in) takes 40 s, the slowest. Used by the benchmark
(``benchmarks.big_detail``) and by the tests of big executions (they make it in their own database).
"""

from __future__ import annotations

from dataclasses import dataclass

from execlog_otel.store.store import Store

GROUP = 1000  # steps per depth-0 "batch" node (the node itself included)
ITEM = 50  # steps per depth-1 "item" node (the node itself included)
STEP_NS = 10_000
FAIL_EVERY = 4999
SLOW_NS = 40 * 10**9

_SQL = """
INSERT INTO {database}.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes,
     ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage)
SELECT
    fromUnixTimestamp64Nano(toInt64({t0:Int64} + i * {step_ns:Int64})) AS Timestamp,
    {trace:String} AS TraceId,
    leftPad(lower(hex(cityHash64({trace:String}, i))), 16, '0') AS SpanId,
    if(i = 0, '', leftPad(lower(hex(cityHash64({trace:String}, parent))), 16, '0')) AS ParentSpanId,
    '' AS TraceState,
    multiIf(i = 0, {name:String}, p0 = 0, 'batch ' || toString(g), q = 0, 'item ' || toString(i),
            kind = 'llm', 'chat gpt-4o-mini', kind = 'tool', 'execute_tool lookup', 'apply_rules') AS SpanName,
    'Internal' AS SpanKind,
    'big-agent-service' AS ServiceName,
    map('service.name', 'big-agent-service') AS ResourceAttributes,
    'execlog_otel' AS ScopeName,
    '0.1.0' AS ScopeVersion,
    if(i = 0,
       mapFilter((k, v) -> v != '', map(
           'execlog.kind', 'agent', 'execlog.execution.name', {name:String}, 'execlog.status', 'Failed',
           'execlog.retry_of', {retry_of:String}, 'execlog.attempt', {attempt:String},
           'execlog.execution.start_time_unix_nano', {execution_start:String},
           'execlog.input', '{"prompt":"process every record","records":' || toString({steps:UInt32}) || '}',
           'execlog.output', '{"processed":' || toString({steps:UInt32}) || ',"failed":'
               || toString(intDiv({steps:UInt32}, {fail_every:UInt32})) || '}',
           'execlog.validation_message', 'some records failed', 'gen_ai.operation.name', 'invoke_agent')),
       mapFilter((k, v) -> v != '', map(
           'execlog.step.kind', if(p0 = 0 OR q = 0, 'node', kind),
           'execlog.step.status', if(failed, 'Failed', 'Success'),
           'gen_ai.operation.name', multiIf(kind = 'llm' AND q != 0 AND p0 != 0, 'chat',
                                            kind = 'tool' AND q != 0 AND p0 != 0, 'execute_tool', ''),
           'gen_ai.request.model', if(kind = 'llm' AND q != 0 AND p0 != 0, 'gpt-4o-mini', ''),
           'gen_ai.usage.input_tokens', if(kind = 'llm' AND q != 0 AND p0 != 0, toString(100 + i % 900), ''),
           'gen_ai.usage.output_tokens', if(kind = 'llm' AND q != 0 AND p0 != 0, toString(20 + i % 200), ''),
           'gen_ai.tool.name', if(kind = 'tool' AND q != 0 AND p0 != 0, 'lookup', ''),
           'execlog.input', '{"record":' || toString(i) || ',"text":"record number ' || toString(i)
               || ' of the batch ' || toString(g) || ', customer ' || toString(cityHash64(i) % 100000)
               || '","tags":["a","b","c"]}',
           'execlog.output', if(failed, '', '{"ok":true,"record":' || toString(i) || ',"score":'
               || toString(cityHash64(i, 2) % 1000) || ',"note":"handled record ' || toString(i) || '"}')))
    ) AS SpanAttributes,
    toUInt64(multiIf(i = 0, {steps:UInt32} * {step_ns:Int64} + {slow_ns:Int64},
                     p0 = 0, {group:UInt32} * {step_ns:Int64}, q = 0, {item:UInt32} * {step_ns:Int64},
                     i = {slow_i:UInt32}, {slow_ns:Int64}, 1000 + cityHash64(i, 3) % 8000)) AS Duration,
    if(failed, 'Error', 'Unset') AS StatusCode,
    if(failed, 'record ' || toString(i) || ' was rejected', '') AS StatusMessage
FROM (
    SELECT number AS i,
           intDiv(i - 1, {group:UInt32}) AS g,
           if(i = 0, 0, (i - 1) % {group:UInt32}) AS p0,
           if(p0 = 0, 0, (p0 - 1) % {item:UInt32}) AS q,
           toUInt64(multiIf(i = 0, 0, p0 = 0, 0, q = 0, i - p0, i - q)) AS parent,
           ['llm', 'tool', 'action'][1 + i % 3] AS kind,
           i > 0 AND p0 != 0 AND q != 0 AND (i + {variant:UInt32}) % {fail_every:UInt32} = 0 AS failed
    FROM numbers({steps:UInt32} + 1)
)
"""


@dataclass(frozen=True)
class BigExecution:
    execution_id: str
    steps: int
    slow_step: int  # the step number (= its depth-first position + 1) of the slowest step
    failed: int


def slow_step(steps: int) -> int:
    """The leaf step near three quarters in that takes SLOW_NS (halfway between two failures)."""
    i = steps * 3 // 4 + FAIL_EVERY // 2
    while (i - 1) % GROUP == 0 or ((i - 1) % GROUP - 1) % ITEM == 0:
        i += 1
    return i


def failed_steps(steps: int) -> list[int]:
    return [i for i in range(FAIL_EVERY, steps + 1, FAIL_EVERY)
            if (i - 1) % GROUP != 0 and ((i - 1) % GROUP - 1) % ITEM != 0]


def generate(store: Store, steps: int, trace_id: str, start_ns: int, name: str = "big-batch-agent",
             retry_of: str = "", attempt: int = 1, variant: int = 0, execution_start_ns: int = 0) -> BigExecution:
    """Insert the root and ``steps`` steps of one execution with ``trace_id`` (32 hex digits); with
    ``retry_of``, as attempt ``attempt`` of that execution, which started at ``execution_start_ns``
    (``variant`` moves which steps fail)."""
    sql = _SQL.replace("{database}", store.database)
    slow = slow_step(steps)
    store.pool.command(sql, parameters={
        "t0": start_ns, "step_ns": STEP_NS, "trace": trace_id, "name": name, "steps": steps, "group": GROUP,
        "item": ITEM, "fail_every": FAIL_EVERY, "slow_ns": SLOW_NS, "slow_i": slow, "retry_of": retry_of,
        "attempt": str(attempt) if retry_of else "", "variant": variant,
        "execution_start": str(execution_start_ns) if retry_of else ""},
        settings={"max_insert_block_size": 1_048_576, "min_insert_block_size_rows": 1_048_576})
    return BigExecution(execution_id=retry_of or trace_id, steps=steps, slow_step=slow,
                        failed=len(failed_steps(steps)) if not variant else -1)

