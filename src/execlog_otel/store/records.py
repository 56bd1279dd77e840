"""ClickHouse rows -> read-model values. Derived facts arrive computed (``sql/facts/``); this module only
names them, parses the JSON attributes and orders a trace's spans into its step tree."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from execlog_otel import semconv as sc
from execlog_otel.store.model import (
    Attempt,
    CodeLocation,
    Cost,
    Event,
    Execution,
    Head,
    LogRecord,
    Payload,
    Rollup,
    Step,
    construct,
)

Row = dict[str, Any]


def rollup(row: Row | None) -> Rollup:
    """The latest attempt's part of a ``read/page_facts.sql`` row (the tokens are the execution's: ``costs``)."""
    if not row:
        return Rollup()
    return Rollup(steps=int(row["Steps"]), failed_steps=int(row["FailedSteps"]),
                  skipped_steps=int(row["SkippedSteps"]), models=tuple(sorted(row["Models"])),
                  tools=tuple(sorted(row["Tools"])), connectors=tuple(sorted(row["Connectors"])))


def execution(row: Row, roll: Rollup | None = None, max_attempts: int | None = None) -> Execution:
    """A row of ``read/execution_columns.sql``."""
    return Execution(
        id=row["ExecutionId"], trace_id=row["TraceId"], name=row["Name"], kind=row["Kind"], status=row["Status"],
        status_message=row["StatusMessage"], start_ns=int(row["StartNs"]),
        attempt_start_ns=int(row["AttemptStartNs"]), attempt_end_ns=int(row["AttemptEndNs"]),
        duration_ns=int(row["DurationNs"]), attempt=int(row["Attempt"]), service=row["ServiceName"],
        event=row["Event"], target=row["Target"], target_record_id=row["TargetRecordId"],
        request_id=row["RequestId"], triggered_by=row["TriggeredBy"],
        trigger_fingerprint=row["TriggerFingerprint"], retry_target=row["RetryTarget"], retry_url=row["RetryUrl"],
        retryable=bool(row["Retryable"]), not_retryable_reason=row["NotRetryableReason"],
        rollup=roll or Rollup(), max_attempts=max_attempts, project=row.get("Project", ""))


def attempt(row: Row) -> Attempt:
    """A row of ``read/attempts.sql``."""
    return Attempt(trace_id=row["TraceId"], attempt=int(row["Attempt"]), start_ns=int(row["StartNs"]),
                   duration_ns=int(row["Duration"]), status=row["Status"], status_message=row["StatusMessage"])


def positive_int(raw: str | None) -> int | None:
    return int(raw) if _digits(raw) and int(raw) > 0 else None


def _digits(raw: str | None) -> bool:
    """Whether ``raw`` is a whole number int() takes: ASCII digits only, and at most 18 of them. str.isdigit() also
    takes superscripts ("²") and other digits int() refuses, and int() refuses 4,300 digits or more: one attribute
    such as execlog.max_attempts="²" raised in every listing that showed its execution. Nothing read so (an attempt
    limit, a payload's size) is larger."""
    return raw is not None and len(raw) <= 18 and raw.isascii() and raw.isdigit()


def payload(attrs: dict[str, str], key: str, fallback: str | None = None) -> Payload | None:
    """A payload attribute: parsed JSON (or the text), and whether and from what size it was capped."""
    raw = attrs.get(key)
    if raw is None and fallback:
        raw = attrs.get(fallback)
        key = fallback
    if raw is None:
        return None
    value = parse_json(raw)
    if attrs.get(key + sc.TRUNCATED_SUFFIX) != "true":
        return Payload(value)
    size = attrs.get(key + sc.ORIGINAL_SIZE_SUFFIX, "")
    return Payload(value, truncated=True, original_size=int(size) if _digits(size) else None)


def parse_json(raw: str) -> Any:
    """JSON text -> its value, or the text itself when it is not JSON. orjson first: a big execution's detail
    parses thousands of payloads; then the standard parser, for what orjson refuses but Python's JSON takes
    (integers past 64 bits, NaN)."""
    try:
        return orjson.loads(raw)
    except ValueError:
        try:
            return json.loads(raw)
        except ValueError:
            return raw


def content(raw: str, attrs: dict[str, str], capped_keys: tuple[str, ...]) -> Payload | None:
    """A span's input or output as derived in ClickHouse (facts/span_input.sql, span_output.sql): parsed JSON
    (or the text), and whether the SDK capped it (``capped_keys``: the attributes its caps mark)."""
    if not raw:
        return None
    for key in capped_keys:
        if attrs.get(key) == raw:
            return payload(attrs, key)
    return Payload(parse_json(raw))


INPUT_KEYS = (sc.INPUT, sc.INPUT_VALUE)
OUTPUT_KEYS = (sc.OUTPUT, sc.OUTPUT_VALUE)


_NO_CODE = CodeLocation()


def code_location(attrs: dict[str, str]) -> CodeLocation:
    if sc.CODE_FUNCTION_NAME not in attrs and sc.CODE_FILE_PATH not in attrs and sc.CODE_SOURCE not in attrs \
            and sc.CODE_LINE_NUMBER not in attrs:
        return _NO_CODE
    return CodeLocation(function=attrs.get(sc.CODE_FUNCTION_NAME, ""), file=attrs.get(sc.CODE_FILE_PATH, ""),
                        line=attrs.get(sc.CODE_LINE_NUMBER, ""), source=attrs.get(sc.CODE_SOURCE, ""))


def head(attrs: dict[str, str], resource: dict[str, str], status: str, status_message: str,
         input_text: str = "", output_text: str = "") -> Head:
    """What the root span (or newest state marker) of an attempt records; ``status`` is the attempt's,
    ``input_text`` / ``output_text`` its derived input and output (the row's Input and Output)."""
    try:
        action_ids = json.loads(attrs.get(sc.EXECUTED_ACTION_IDS, "[]"))
    except ValueError:
        action_ids = [attrs.get(sc.EXECUTED_ACTION_IDS)]
    failed = status in sc.FAILED_STATUSES
    return Head(
        input=content(input_text, attrs, INPUT_KEYS),
        output=content(output_text, attrs, OUTPUT_KEYS),
        trigger=attrs.get(sc.TRIGGER, ""),
        trigger_payload=payload(attrs, sc.TRIGGER_PAYLOAD),
        validation_message=attrs.get(sc.VALIDATION_MESSAGE, "") or (status_message if failed else ""),
        raised_action=attrs.get(sc.RAISED_ACTION, ""),
        executed_action_ids=tuple(action_ids) if isinstance(action_ids, list) else (action_ids,),
        conversation_id=attrs.get(sc.GEN_AI_CONVERSATION_ID, ""),
        code=code_location(attrs),
        max_attempts=positive_int(attrs.get(sc.MAX_ATTEMPTS)),
        attributes=attrs,
        resource=resource,
    )


def _error(row: Row, events: tuple[Event, ...]) -> str:
    if row["StepStatus"] != sc.StepStatus.FAILED:
        return ""
    error = row["SpanAttributes"].get(sc.VALIDATION_MESSAGE) or row["StatusMessage"]
    if error:
        return error
    for ev in events:
        if ev.name == sc.EXCEPTION_EVENT:
            return f"{ev.attributes.get(sc.EXCEPTION_TYPE, '')}: {ev.attributes.get(sc.EXCEPTION_MESSAGE, '')}"
    return ""


def step(row: Row, t0: int, depth: int, logs: tuple[LogRecord, ...] = (), cost: Cost | None = None,
         position: int = -1, descendants: int = -1) -> Step:
    """A row of ``read/trace_spans.sql`` at ``depth`` in its tree; ``t0`` is the attempt's start. Its log
    records, cost and place in a paged read are given here, so a step is made once."""
    a = row["SpanAttributes"]
    events = tuple(construct(Event, time_ns=int(t), name=n, attributes=at) for t, n, at in
                   zip(row["EventTimes"], row["EventNames"], row["EventAttrs"], strict=False)) \
        if row["EventNames"] else ()
    start_ns = int(row["StartNs"])
    return construct(
        Step, span_id=row["SpanId"], parent_span_id=row["ParentSpanId"], depth=depth,
        name=a.get(sc.EXECUTION_NAME) or row["SpanName"], span_name=row["SpanName"], kind=row["StepKind"],
        status=row["StepStatus"], error=_error(row, events), skip_reason=a.get(sc.SKIP_REASON, ""),
        start_ns=start_ns, offset_ns=start_ns - t0, duration_ns=int(row["Duration"]),
        model=row["Model"], input_tokens=int(row["InputTokens"]), output_tokens=int(row["OutputTokens"]),
        total_tokens=int(row["TotalTokens"]), tool=row["Tool"], connector=row["Connector"],
        input=content(row["Input"], a, INPUT_KEYS) or (log_content(
            [lg.content_input for lg in logs if lg.content_input]) if logs else None),
        output=content(row["Output"], a, OUTPUT_KEYS) or (log_content(
            [lg.content_output for lg in logs if lg.content_output]) if logs else None),
        code=code_location(a), attributes=a, events=events, service=row["ServiceName"], logs=logs, cost=cost,
        position=position, descendants=descendants)


def _by_start(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda x: (x["StartNs"], x["SpanId"]))


def log_content(texts: list[str]) -> Payload | None:
    """The GenAI content of a step's log records: one record's as it is, several (one event per message) as
    a list, oldest first."""
    if not texts:
        return None
    if len(texts) == 1:
        return content(texts[0], {}, ())
    return Payload([p.value for p in (content(t, {}, ()) for t in texts) if p is not None])


_NO_LOGS: Mapping[str, list[LogRecord]] = {}
_NO_COSTS: Mapping[str, Cost] = {}


def step_tree(rows: list[Row], logs: Mapping[str, list[LogRecord]] = _NO_LOGS,
              costs: Mapping[str, Cost] = _NO_COSTS) -> tuple[Row | None, list[Step], Row | None]:
    """Split a trace's spans into (root row, steps in depth-first chronological order, newest state marker);
    each step with its log records and cost (by span id); input and output a span lacks come from its log
    records' content."""
    # An HTTP request carrying a model call is part of that step, not one of its own (as the rollups count).
    rows = [r for r in rows if not r.get("IsTransport")]
    root = None
    marker = None
    children: dict[str, list[Row]] = {}
    ids = set()
    for r in rows:
        if r["IsMarker"]:
            if marker is None or r["StartNs"] >= marker["StartNs"]:
                marker = r
            continue
        ids.add(r["SpanId"])
        if not r["ParentSpanId"] and root is None:
            root = r
        else:
            children.setdefault(r["ParentSpanId"], []).append(r)
    t0 = root["StartNs"] if root else (min((r["StartNs"] for r in rows), default=0))
    steps: list[Step] = []
    seen: set[str] = set()
    # Depth first with a stack of iterators, not a nested recursive function: one that calls itself holds its
    # own closure, a reference cycle that kept every row and step of the request alive until the garbage
    # collector ran (at the default thresholds, a fifth of a 1,000-step detail's time went to collections).
    tops = [root["SpanId"]] if root is not None else []
    # Orphans (parent not in this trace yet, e.g. the root is still running): top level.
    tops += sorted(set(children) - ids - ({root["SpanId"]} if root else set()))
    for top in tops:
        stack = [iter(_by_start(children.get(top, ())))]
        while stack:
            r = next(stack[-1], None)
            if r is None:
                stack.pop()
                continue
            sid = r["SpanId"]
            if sid in seen:
                continue
            seen.add(sid)
            steps.append(step(r, t0, len(stack) - 1, tuple(logs.get(sid, ())), costs.get(sid)))
            stack.append(iter(_by_start(children.get(sid, ()))))
    return root, steps, marker
