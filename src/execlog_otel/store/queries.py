"""Read queries behind the API and the viewer. Every value is a server-side bound parameter.

The listing reads ``execlog_executions`` (one row per execution, newest state,
ordered by (Start, ExecutionId)) with keyset pagination, then the rollups of
just the rows on the page. The detail reads the trace's spans from
``otel_traces``, bounded in time through ``otel_traces_trace_id_ts``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.store.store import Store

MAX_PAGE = 200
COUNT_CAP = 10_000
MAX_STEPS = 5_000
_HEX32 = re.compile(r"^[0-9a-f]{32}$")

SORTS = {"started_at", "duration"}
KINDS = {k.value for k in sc.Kind}
STATUSES = {s.value for s in sc.Status}


class QueryError(ValueError):
    """A filter value we cannot use; the message says which and why (answered with 400)."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ns: int) -> str | None:
    """ns since the epoch -> ISO-8601 UTC, truncated to the microsecond (never rounded up, so a
    ``from`` bound copied from it still includes the execution it came from)."""
    if not ns:
        return None
    dt = _EPOCH + timedelta(microseconds=ns // 1_000)
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str | int | float | None, name: str) -> int | None:
    """ISO-8601 (``Z`` or offset; naive means UTC) or epoch milliseconds -> ns."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\d{1,16}", value)):
        return int(value) * 1_000_000
    if isinstance(value, float):
        return round(value * 1_000_000)
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{name}={value!r}: expected an ISO-8601 time or epoch milliseconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Integer arithmetic: a float timestamp loses the microseconds an ISO time carries, which
    # would move a bound past the very execution whose start it was copied from.
    return (dt - _EPOCH) // timedelta(microseconds=1) * 1_000


def encode_cursor(sort_value: int, execution_id: str) -> str:
    raw = json.dumps([sort_value, execution_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, eid = json.loads(raw)
        if not isinstance(value, int) or not isinstance(eid, str) or len(eid) > 64:
            raise ValueError
        return value, eid
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise QueryError(f"cursor={cursor!r} is not a cursor this server issued") from None


@dataclass
class ListFilter:
    kind: str | None = None
    status: list[str] = field(default_factory=list)
    name: str | None = None
    q: str | None = None
    service: str | None = None
    from_ns: int | None = None
    to_ns: int | None = None
    limit: int = 50
    cursor: str | None = None
    sort: str = "started_at"
    order: str = "desc"

    @classmethod
    def from_args(cls, args: Any) -> ListFilter:
        """Build from a mapping of query-string values (werkzeug MultiDict or dict)."""

        def get(key: str) -> str | None:
            v = args.get(key)
            return v.strip() if isinstance(v, str) and v.strip() else None

        kind = get("kind")
        if kind in ("all", None):
            kind = None
        elif kind not in KINDS:
            raise QueryError(f"kind={kind!r}: expected one of all, {', '.join(sorted(KINDS))}")
        statuses: list[str] = []
        raw_status = args.getlist("status") if hasattr(args, "getlist") else [args.get("status")]
        for item in raw_status:
            for s in (item or "").split(","):
                s = s.strip()
                if not s:
                    continue
                match = next((v for v in STATUSES if v.lower() == s.lower().replace("_", " ")), None)
                if match is None:
                    raise QueryError(f"status={s!r}: expected one of {', '.join(sorted(STATUSES))}")
                statuses.append(match)
        limit_raw = get("limit")
        try:
            limit = int(limit_raw) if limit_raw else 50
        except ValueError:
            raise QueryError(f"limit={limit_raw!r}: expected a whole number") from None
        if not 1 <= limit <= MAX_PAGE:
            raise QueryError(f"limit={limit}: must be between 1 and {MAX_PAGE}")
        sort = get("sort") or "started_at"
        if sort not in SORTS:
            raise QueryError(f"sort={sort!r}: expected started_at or duration")
        order = (get("order") or "desc").lower()
        if order not in ("asc", "desc"):
            raise QueryError(f"order={order!r}: expected asc or desc")
        q = get("q")
        if q and len(q) > 200:
            raise QueryError("q: search text is limited to 200 characters")
        f = cls(kind=kind, status=statuses, name=get("name"), q=q, service=get("service"),
                from_ns=parse_time(get("from"), "from"), to_ns=parse_time(get("to"), "to"),
                limit=limit, cursor=get("cursor"), sort=sort, order=order)
        if f.from_ns and f.to_ns and f.from_ns > f.to_ns:
            raise QueryError("from is later than to")
        if f.cursor:
            decode_cursor(f.cursor)
        return f


_DURATION_NS = "if(AttemptEnd = toDateTime64(0, 9), toUnixTimestamp64Nano(now64(9)), " \
               "toUnixTimestamp64Nano(AttemptEnd)) - toUnixTimestamp64Nano(AttemptStart)"

_EXEC_COLUMNS = f"""
    ExecutionId, toUnixTimestamp64Nano(Start) AS StartNs, TraceId,
    toUnixTimestamp64Nano(AttemptStart) AS AttemptStartNs, toUnixTimestamp64Nano(AttemptEnd) AS AttemptEndNs,
    Attempt, Name, Kind, Status, StatusMessage, ServiceName, Event, Target, TargetRecordId, RequestId,
    TriggeredBy, TriggerFingerprint, RetryTarget, RetryUrl, Retryable, NotRetryableReason,
    greatest({_DURATION_NS}, 0) AS DurationNs
"""
_EXEC_NAMES = ["ExecutionId", "StartNs", "TraceId", "AttemptStartNs", "AttemptEndNs", "Attempt", "Name", "Kind",
               "Status", "StatusMessage", "ServiceName", "Event", "Target", "TargetRecordId", "RequestId",
               "TriggeredBy", "TriggerFingerprint", "RetryTarget", "RetryUrl", "Retryable", "NotRetryableReason",
               "DurationNs"]


# ListFilter field -> (bound parameter, condition): each applies when the field is set.
_FIELD_CONDITIONS = (
    ("from_ns", "from_ns", "Start >= fromUnixTimestamp64Nano({from_ns:Int64})"),
    ("to_ns", "to_ns", "Start <= fromUnixTimestamp64Nano({to_ns:Int64})"),
    ("kind", "kind", "Kind = {kind:String}"),
    ("status", "statuses", "Status IN {statuses:Array(String)}"),
    ("name", "name", "Name = {name:String}"),
    ("service", "service", "ServiceName = {service:String}"),
)


def _where(f: ListFilter, params: dict[str, Any]) -> list[str]:
    where = []
    for attr, param, condition in _FIELD_CONDITIONS:
        value = getattr(f, attr)
        if value is not None and value != "" and value != []:
            where.append(condition)
            params[param] = value
    if f.q:
        # Ids are 32 lowercase hex characters: other texts cannot equal one, so those columns (the
        # widest) are not read for them.
        ids = "ExecutionId = lower({q:String}) OR TraceId = lower({q:String}) OR " \
            if _HEX32.match(f.q.lower()) else ""
        where.append(f"({ids}positionCaseInsensitiveUTF8(RequestId, {{q:String}}) > 0"
                     " OR positionCaseInsensitiveUTF8(TargetRecordId, {q:String}) > 0"
                     " OR positionCaseInsensitiveUTF8(Target, {q:String}) > 0"
                     " OR positionCaseInsensitiveUTF8(Event, {q:String}) > 0"
                     " OR positionCaseInsensitiveUTF8(Name, {q:String}) > 0)")
        params["q"] = f.q
    return where


def _settings(store: Store) -> dict[str, Any]:
    return {"max_execution_time": getattr(store, "query_timeout_s", 10) or 10}


_DAY_NS = 86_400 * 10**9
# FINAL over all of execlog_executions costs hundreds of ms at a million executions, over a day
# a few ms; a page ordered by start is usually full within the latest day or week, so those are
# tried first (benchmarks/ measures it). Rows outside a window all sort after the rows inside it.
START_WINDOWS_NS = (_DAY_NS, 7 * _DAY_NS)


def _start_windows(f: ListFilter, desc: bool, cursor_ns: int | None) -> list[int | None]:
    """Bounds on Start to try in turn (None: unbounded), for listings ordered by start time."""
    if f.sort != "started_at":
        return [None]
    if desc:
        anchor = cursor_ns if cursor_ns is not None else f.to_ns
        if anchor is None:
            anchor = int(datetime.now(tz=UTC).timestamp() * 1e9)
        bounds = [anchor - w for w in START_WINDOWS_NS if f.from_ns is None or anchor - w > f.from_ns]
    else:
        anchor = cursor_ns if cursor_ns is not None else f.from_ns
        if anchor is None:
            return [None]
        bounds = [anchor + w for w in START_WINDOWS_NS if f.to_ns is None or anchor + w < f.to_ns]
    return [*bounds, None]


SEARCH_NARROW_MAX = 1_000  # at most this many matching executions are fetched by their starts


def _search_matches(store: Store, ex: str, where: list[str], params: dict[str, Any]) -> list[tuple[int, str]]:
    """(start ns, id) of the executions any row of which matches ``where``, up to SEARCH_NARROW_MAX + 1
    (a search matching more stops reading early and pages through start-time windows instead)."""
    sql = (f"SELECT DISTINCT toUnixTimestamp64Nano(Start), ExecutionId FROM {ex} WHERE {' AND '.join(where)} "
           f"LIMIT {SEARCH_NARROW_MAX + 1}")
    return store.client.query(sql, parameters=params, settings=_settings(store)).result_rows


def list_executions(store: Store, f: ListFilter) -> dict[str, Any]:
    params: dict[str, Any] = {}
    where = _where(f, params)
    count_where = list(where)
    desc = f.order == "desc"
    cmp = "<" if desc else ">"
    direction = "DESC" if desc else "ASC"
    if f.sort == "started_at":
        sort_expr = "toUnixTimestamp64Nano(Start)"
    else:
        sort_expr = f"greatest({_DURATION_NS}, 0)"
    if f.cursor:
        value, eid = decode_cursor(f.cursor)
        where.append(f"({sort_expr}, ExecutionId) {cmp} ({{c_value:Int64}}, {{c_id:String}})")
        params["c_value"] = value
        params["c_id"] = eid
        if f.sort == "started_at":
            # Let the primary key prune: same bound on Start itself.
            where.append(f"Start {cmp}= fromUnixTimestamp64Nano({{c_value:Int64}})")
    params["limit"] = f.limit + 1
    ex = store.table("execlog_executions")
    count_params = {k: v for k, v in params.items() if not k.startswith("c_") and k != "limit"}
    # Ordering by Start itself (not its ns value) lets ClickHouse read the sorting key in order.
    order_expr = "Start" if f.sort == "started_at" else sort_expr

    def page(windows: list[int | None]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for window in windows:
            window_where = list(where)
            if window is not None:
                window_where.append(f"Start {'>' if desc else '<'}= fromUnixTimestamp64Nano({{w_bound:Int64}})")
                params["w_bound"] = window
            sql = (f"SELECT {_EXEC_COLUMNS} FROM {ex} FINAL"
                   + (f" WHERE {' AND '.join(window_where)}" if window_where else "")
                   + f" ORDER BY {order_expr} {direction}, ExecutionId {direction} LIMIT {{limit:UInt32}}")
            rows = list(store.client.query(sql, parameters=params, settings=_settings(store)).named_results())
            if len(rows) > f.limit:
                break
        return rows

    windows = _start_windows(f, desc, decode_cursor(f.cursor)[0] if f.cursor else None)
    matches = None
    if not f.q:
        rows = page(windows)
    else:
        # A common text fills the page from the nearest day. Otherwise a search reads every row: one
        # scan without FINAL finds the executions any of whose rows match (the newest row's among
        # them); when they are few, FINAL reads only their starts and their number is the count.
        nearest, windows = ([windows[0]], windows[1:]) if windows[0] is not None else ([], windows)
        rows = page(nearest)
        if len(rows) <= f.limit:
            matches = _search_matches(store, ex, count_where, count_params)
            if len(matches) > SEARCH_NARROW_MAX:
                matches = None
                rows = page(windows)
            else:
                where.append("Start IN (SELECT fromUnixTimestamp64Nano(arrayJoin({m_starts:Array(Int64)})))")
                params["m_starts"] = sorted({m[0] for m in matches})
                rows = page([None]) if matches else []
    params.pop("w_bound", None)
    has_more = len(rows) > f.limit
    rows = rows[: f.limit]
    rollups = trace_rollups(store, [r["TraceId"] for r in rows],
                            since_ns=min((r["StartNs"] for r in rows), default=None))
    items = [execution_item(r, rollups.get(r["TraceId"], {})) for r in rows]
    add_max_attempts(store, items)
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(last["StartNs"] if f.sort == "started_at" else last["DurationNs"],
                                    last["ExecutionId"])
    if matches is not None and not f.status:
        count = len(matches)
    elif f.status:
        count_sql = (f"SELECT count() FROM (SELECT 1 FROM {ex} FINAL"
                     + (f" WHERE {' AND '.join(count_where)}" if count_where else "")
                     + f" LIMIT {COUNT_CAP + 1})")
    else:
        # Without a status filter every filter is on the execution's identity (name, kind, service,
        # ids, target, event, start), which its state markers repeat, so counting distinct executions
        # needs no FINAL — a search scans all of them, and FINAL would triple the cost.
        count_sql = (f"SELECT count() FROM (SELECT DISTINCT ExecutionId FROM {ex}"
                     + (f" WHERE {' AND '.join(count_where)}" if count_where else "")
                     + f" LIMIT {COUNT_CAP + 1})")
    if matches is None or f.status:
        count = int(store.client.query(count_sql, parameters=count_params,
                                       settings=_settings(store)).result_rows[0][0])
    return {"items": items, "next_cursor": next_cursor, "count": min(count, COUNT_CAP),
            "count_capped": count > COUNT_CAP}


def trace_rollups(store: Store, trace_ids: list[str], since_ns: int | None = None) -> dict[str, dict[str, Any]]:
    """Rollups of the given traces; ``since_ns`` (the earliest execution start among them) lets the
    query skip older partitions: a trace's spans, its retries and markers all start after it."""
    if not trace_ids:
        return {}
    params: dict[str, Any] = {"ids": trace_ids}
    since = ""
    if since_ns:
        # An hour of slack for spans from hosts whose clocks run behind.
        since = "AND Start >= fromUnixTimestamp64Nano({since:Int64}) - INTERVAL 1 HOUR"
        params["since"] = since_ns
    sql = f"""
        SELECT TraceId, sum(Steps) AS Steps, sum(FailedSteps) AS FailedSteps, sum(SkippedSteps) AS SkippedSteps,
               sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
               sum(TotalTokens) AS TotalTokens, groupUniqArrayArray(Models) AS Models,
               groupUniqArrayArray(Tools) AS Tools, groupUniqArrayArray(Connectors) AS Connectors
        FROM {store.table('execlog_trace_rollups')}
        WHERE TraceId IN {{ids:Array(String)}} {since}
        GROUP BY TraceId"""
    result = store.client.query(sql, parameters=params, settings=_settings(store))
    return {r["TraceId"]: r for r in result.named_results()}


def execution_item(r: dict[str, Any], roll: dict[str, Any]) -> dict[str, Any]:
    running = not r["AttemptEndNs"]
    return {
        "id": r["ExecutionId"],
        "trace_id": r["TraceId"],
        "name": r["Name"],
        "kind": r["Kind"],
        "status": r["Status"],
        "status_message": r["StatusMessage"],
        "started_at": iso(r["StartNs"]),
        "attempt_started_at": iso(r["AttemptStartNs"]),
        "ended_at": None if running else iso(r["AttemptEndNs"]),
        "duration_ms": round(r["DurationNs"] / 1e6, 3),
        "live": r["Status"] in sc.LIVE_STATUSES,
        "attempt": r["Attempt"],
        "steps": int(roll.get("Steps", 0)),
        "failed_steps": int(roll.get("FailedSteps", 0)),
        "skipped_steps": int(roll.get("SkippedSteps", 0)),
        "input_tokens": int(roll.get("InputTokens", 0)),
        "output_tokens": int(roll.get("OutputTokens", 0)),
        "total_tokens": int(roll.get("TotalTokens", 0)),
        "models": sorted(roll.get("Models", [])),
        "tools": sorted(roll.get("Tools", [])),
        "connectors": sorted(roll.get("Connectors", [])),
        "service": r["ServiceName"],
        "event": r["Event"],
        "target": r["Target"],
        "target_record_id": r["TargetRecordId"],
        "request_id": r["RequestId"],
        "triggered_by": r["TriggeredBy"],
        "retryable": bool(r["Retryable"]),
        "not_retryable_reason": r["NotRetryableReason"],
        "trigger_fingerprint": r["TriggerFingerprint"],
        "retry_target": r["RetryTarget"],
        "retry_url": r["RetryUrl"],
    }


def check_execution_id(execution_id: str) -> str:
    eid = (execution_id or "").strip().lower()
    if not _HEX32.match(eid):
        raise QueryError(f"{execution_id!r} is not an execution id (32 hexadecimal characters)")
    return eid


def get_execution_row(store: Store, execution_id: str) -> dict[str, Any] | None:
    eid = check_execution_id(execution_id)
    sql = (f"SELECT {_EXEC_COLUMNS} FROM {store.table('execlog_executions')} FINAL "
           "WHERE ExecutionId = {id:String} ORDER BY Version DESC LIMIT 1")
    rows = list(store.client.query(sql, parameters={"id": eid}, settings=_settings(store)).named_results())
    return rows[0] if rows else None


def root_attempt(trace_id: str, root: dict[str, Any]) -> dict[str, Any]:
    """A trace's root span as an item of ``attempts`` (the same values its query computes)."""
    a = root["SpanAttributes"]
    raw = a.get(sc.ATTEMPT, "")
    number = int(raw) if raw.isdigit() and int(raw) < 65536 else 0
    status = a.get(sc.STATUS) or ("Failed" if root["StatusCode"] == "Error" else "Success")
    return {"trace_id": trace_id, "attempt": max(number, 1), "started_at": iso(root["StartNs"]),
            "duration_ms": round(root["Duration"] / 1e6, 3), "status": status}


def attempts(store: Store, execution_id: str, start_ns: int, retried: bool = True) -> list[dict[str, Any]]:
    """Every attempt of an execution (its first trace and the traces that retried it), oldest first.

    ``retried=False`` (its newest state is its first attempt) looks up the one trace by id, which its
    bloom filter index answers at once, instead of scanning roots since the start for retries."""
    match = ("TraceId = {id:String}" if not retried
             else "(TraceId = {id:String} OR SpanAttributes['execlog.retry_of'] = {id:String})")
    sql = f"""
        SELECT TraceId, toUInt16(greatest(toUInt16OrZero(SpanAttributes['execlog.attempt']), 1)) AS Attempt,
               toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration,
               multiIf(SpanAttributes['execlog.status'] != '', SpanAttributes['execlog.status'],
                       StatusCode = 'Error', 'Failed', 'Success') AS Status
        FROM {store.table('otel_traces')}
        WHERE ParentSpanId = '' AND Timestamp >= fromUnixTimestamp64Nano({{start:Int64}}) - INTERVAL 1 SECOND
          AND {match}
        ORDER BY Attempt, StartNs"""
    rows = store.client.query(sql, parameters={"id": execution_id, "start": start_ns},
                              settings=_settings(store)).named_results()
    return [{"trace_id": r["TraceId"], "attempt": r["Attempt"], "started_at": iso(r["StartNs"]),
             "duration_ms": round(r["Duration"] / 1e6, 3), "status": r["Status"]} for r in rows]


def trace_spans(store: Store, trace_id: str, limit: int = MAX_STEPS) -> list[dict[str, Any]]:
    bounds = store.client.query(
        f"SELECT toUnixTimestamp(min(Start)), toUnixTimestamp(max(End)) "
        f"FROM {store.table('otel_traces_trace_id_ts')} WHERE TraceId = {{id:String}}",
        parameters={"id": trace_id}, settings=_settings(store)).result_rows
    lo, hi = bounds[0] if bounds else (0, 0)
    params: dict[str, Any] = {"id": trace_id, "limit": limit}
    time_clause = ""
    if lo and hi:
        time_clause = ("AND Timestamp >= toDateTime({lo:UInt32}) - INTERVAL 1 SECOND "
                       "AND Timestamp <= toDateTime({hi:UInt32}) + INTERVAL 1 SECOND")
        params.update(lo=lo, hi=hi)
    sql = f"""
        SELECT SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toUnixTimestamp64Nano(Timestamp) AS StartNs,
               Duration, StatusCode, StatusMessage, SpanAttributes, ResourceAttributes, ScopeName,
               arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventTimes,
               Events.Name AS EventNames, Events.Attributes AS EventAttrs,
               Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds
        FROM {store.table('otel_traces')}
        WHERE TraceId = {{id:String}} {time_clause}
        ORDER BY Timestamp, SpanId
        LIMIT {{limit:UInt32}}"""
    return list(store.client.query(sql, parameters=params, settings=_settings(store)).named_results())


def span_payload(attrs: dict[str, str], key: str, fallback: str | None = None) -> dict[str, Any] | None:
    """A payload attribute as {value (parsed JSON or text), truncated, original_size}."""
    raw = attrs.get(key)
    if raw is None and fallback:
        raw = attrs.get(fallback)
        key = fallback
    if raw is None:
        return None
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    out: dict[str, Any] = {"value": value}
    if attrs.get(key + sc.TRUNCATED_SUFFIX) == "true":
        out["truncated"] = True
        size = attrs.get(key + sc.ORIGINAL_SIZE_SUFFIX, "")
        out["original_size"] = int(size) if size.isdigit() else None
    return out


def _tokens(a: dict[str, str]) -> tuple[int, int]:
    def num(*keys: str) -> int:
        for k in keys:
            v = a.get(k)
            if v is not None and v.isdigit():
                return int(v)
        return 0

    return (num(sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_PROMPT_TOKENS, sc.LLM_TOKEN_COUNT_PROMPT),
            num(sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.GEN_AI_USAGE_COMPLETION_TOKENS, sc.LLM_TOKEN_COUNT_COMPLETION))


def step_status(row: dict[str, Any]) -> str:
    a = row["SpanAttributes"]
    s = a.get(sc.STEP_STATUS) or a.get(sc.STATUS)
    if s:
        return s
    return sc.StepStatus.FAILED if row["StatusCode"] == "Error" else sc.StepStatus.SUCCESS


def step_item(row: dict[str, Any], t0: int, depth: int) -> dict[str, Any]:
    a = row["SpanAttributes"]
    tin, tout = _tokens(a)
    total = a.get(sc.LLM_TOKEN_COUNT_TOTAL, "")
    events = [{"time": iso(t), "name": n, "attributes": at}
              for t, n, at in zip(row["EventTimes"], row["EventNames"], row["EventAttrs"], strict=False)]
    error = ""
    if step_status(row) == sc.StepStatus.FAILED:
        error = a.get(sc.VALIDATION_MESSAGE) or row["StatusMessage"]
        for ev in events:
            if ev["name"] == "exception":
                at = ev["attributes"]
                error = error or f"{at.get('exception.type', '')}: {at.get('exception.message', '')}"
    return {
        "span_id": row["SpanId"],
        "parent_span_id": row["ParentSpanId"],
        "depth": depth,
        "name": a.get(sc.EXECUTION_NAME) or row["SpanName"],
        "span_name": row["SpanName"],
        "kind": a.get(sc.STEP_KIND) or a.get(sc.KIND) or _infer_step_kind(a),
        "status": step_status(row),
        "error": error,
        "skip_reason": a.get(sc.SKIP_REASON, ""),
        "started_at": iso(row["StartNs"]),
        "offset_ms": round((row["StartNs"] - t0) / 1e6, 3),
        "duration_ms": round(row["Duration"] / 1e6, 3),
        "model": a.get(sc.GEN_AI_RESPONSE_MODEL) or a.get(sc.GEN_AI_REQUEST_MODEL) or a.get(sc.LLM_MODEL_NAME, ""),
        "input_tokens": tin,
        "output_tokens": tout,
        "total_tokens": max(tin + tout, int(total) if total.isdigit() else 0),
        "tool": a.get(sc.GEN_AI_TOOL_NAME) or a.get(sc.TOOL_NAME) or a.get(sc.TOOL, ""),
        "connector": connector_of(a, row["SpanKind"]),
        "input": span_payload(a, sc.INPUT, sc.INPUT_VALUE),
        "output": span_payload(a, sc.OUTPUT, sc.OUTPUT_VALUE),
        "code": {"function": a.get(sc.CODE_FUNCTION_NAME, ""), "file": a.get(sc.CODE_FILE_PATH, ""),
                 "line": a.get(sc.CODE_LINE_NUMBER, ""), "source": a.get(sc.CODE_SOURCE, "")},
        "attributes": a,
        "events": events,
        "service": row["ServiceName"],
    }


_CONNECTOR_KEYS = ("db.system.name", "db.system", "messaging.system", "rpc.service", "server.address",
                   "net.peer.name")
_MODEL_CALL_KEYS = (sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_SYSTEM, sc.GEN_AI_PROVIDER_NAME, sc.LLM_MODEL_NAME)


def connector_of(a: dict[str, str], span_kind: str) -> str:
    """The connector a step used: named by the SDK, else the system a client span called.

    Mirrors ``Connector`` in ``sql/rollups_select.sql`` so a step and its execution's rollup agree."""
    if a.get(sc.CONNECTOR):
        return a[sc.CONNECTOR]
    if span_kind not in ("Client", "Producer") or any(a.get(k) for k in _MODEL_CALL_KEYS):
        return ""
    return next((a[k] for k in _CONNECTOR_KEYS if a.get(k)), "")


def _infer_step_kind(a: dict[str, str]) -> str:
    op = a.get(sc.GEN_AI_OPERATION_NAME, "")
    oi = a.get(sc.OPENINFERENCE_SPAN_KIND, "").upper()
    if op == sc.OP_EXECUTE_TOOL or oi == "TOOL":
        return sc.StepKind.TOOL
    if op in (sc.OP_CHAT, "text_completion", "generate_content", "embeddings") or oi in ("LLM", "EMBEDDING"):
        return sc.StepKind.LLM
    if op in (sc.OP_INVOKE_AGENT, sc.OP_INVOKE_WORKFLOW) or oi in ("AGENT", "CHAIN"):
        return sc.StepKind.NODE
    return sc.StepKind.STEP


def build_steps(rows: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[dict[str, Any]],
                                                     dict[str, Any] | None]:
    """Split a trace into (root row, steps in depth-first chronological order, newest state marker)."""
    root = None
    marker = None
    children: dict[str, list[dict[str, Any]]] = {}
    ids = set()
    for r in rows:
        if r["SpanAttributes"].get(sc.MARKER) == sc.MARKER_STATE:
            if marker is None or r["StartNs"] >= marker["StartNs"]:
                marker = r
            continue
        ids.add(r["SpanId"])
        if not r["ParentSpanId"] and root is None:
            root = r
        else:
            children.setdefault(r["ParentSpanId"], []).append(r)
    t0 = root["StartNs"] if root else (min((r["StartNs"] for r in rows), default=0))
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(parent_id: str, depth: int) -> None:
        for r in sorted(children.get(parent_id, ()), key=lambda x: (x["StartNs"], x["SpanId"])):
            if r["SpanId"] in seen:
                continue
            seen.add(r["SpanId"])
            steps.append(step_item(r, t0, depth))
            walk(r["SpanId"], depth + 1)

    if root is not None:
        walk(root["SpanId"], 0)
    # Orphans (parent not in this trace yet, e.g. the root is still running): top level.
    for parent_id in sorted(set(children) - ids - ({root["SpanId"]} if root else set())):
        walk(parent_id, 0)
    return root, steps, marker


def get_execution(store: Store, execution_id: str, attempt: int | None = None) -> dict[str, Any] | None:
    """The execution (latest attempt unless ``attempt`` is given) with its steps, or None."""
    row = get_execution_row(store, execution_id)
    if row is None:
        return None
    retried = row["Attempt"] > 1 or row["TraceId"] != row["ExecutionId"]
    # Never retried: its one attempt is the root among the spans read below, no query needed.
    all_attempts = attempts(store, row["ExecutionId"], row["StartNs"], retried=retried) \
        if retried or attempt is not None else None
    trace_id = row["TraceId"]
    if attempt is not None:
        match = next((a for a in all_attempts if a["attempt"] == attempt), None)
        if match is None:
            raise QueryError(f"attempt={attempt}: this execution has attempts "
                             f"{', '.join(str(a['attempt']) for a in all_attempts) or 'none'}")
        trace_id = match["trace_id"]
    # The root, up to MAX_STEPS steps, and one more span to tell whether there were more.
    spans = trace_spans(store, trace_id, MAX_STEPS + 2)
    root, steps, marker = build_steps(spans)
    if all_attempts is None:
        all_attempts = [root_attempt(trace_id, root)] if root is not None else []
    steps_truncated = len(spans) >= MAX_STEPS + 2 or len(steps) > MAX_STEPS
    steps = steps[:MAX_STEPS]
    roll = trace_rollups(store, [trace_id], since_ns=row["StartNs"]).get(trace_id, {})
    item = execution_item(row, roll)
    if trace_id != row["TraceId"] and root is not None:
        # An older attempt: its own status, time and duration.
        item.update(trace_id=trace_id, attempt=attempt,
                    status=root["SpanAttributes"].get(sc.STATUS) or
                    ("Failed" if root["StatusCode"] == "Error" else "Success"),
                    attempt_started_at=iso(root["StartNs"]), ended_at=iso(root["StartNs"] + root["Duration"]),
                    duration_ms=round(root["Duration"] / 1e6, 3), status_message=root["StatusMessage"])
    head = root or marker
    a = head["SpanAttributes"] if head else {}
    res = head["ResourceAttributes"] if head else {}
    try:
        action_ids = json.loads(a.get(sc.EXECUTED_ACTION_IDS, "[]"))
    except ValueError:
        action_ids = [a.get(sc.EXECUTED_ACTION_IDS)]
    item.update(
        attempts=all_attempts,
        max_attempts=int(a.get(sc.MAX_ATTEMPTS, "0") or 0) or None,
        shown_attempt=item["attempt"],
        input=span_payload(a, sc.INPUT, sc.INPUT_VALUE),
        output=span_payload(a, sc.OUTPUT, sc.OUTPUT_VALUE),
        trigger=a.get(sc.TRIGGER, ""),
        trigger_payload=span_payload(a, sc.TRIGGER_PAYLOAD),
        validation_message=a.get(sc.VALIDATION_MESSAGE, "") or (item["status_message"] if item["status"] in
                                                                 sc.FAILED_STATUSES else ""),
        raised_action=a.get(sc.RAISED_ACTION, ""),
        executed_action_ids=action_ids if isinstance(action_ids, list) else [action_ids],
        conversation_id=a.get(sc.GEN_AI_CONVERSATION_ID, ""),
        code={"function": a.get(sc.CODE_FUNCTION_NAME, ""), "file": a.get(sc.CODE_FILE_PATH, ""),
              "line": a.get(sc.CODE_LINE_NUMBER, ""), "source": a.get(sc.CODE_SOURCE, "")},
        attributes=a,
        resource=res,
        steps=steps,
        steps_truncated=steps_truncated,
    )
    item["execution_time_ms"] = item["duration_ms"]
    return item


# --- Viewer additions: live polling by id, table neighbours, names per kind, summaries ---------------

MAX_IDS = MAX_PAGE
MAX_NAMES = 1_000


def parse_ids(raw: str | None) -> list[str]:
    """A comma-separated list of execution ids (the listing polls its live rows with it)."""
    ids = [check_execution_id(p) for p in (raw or "").split(",") if p.strip()]
    if len(ids) > MAX_IDS:
        raise QueryError(f"ids: at most {MAX_IDS} execution ids per request")
    return list(dict.fromkeys(ids))


def executions_by_id(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """The current state of the given executions (for in-place updates of live rows)."""
    if not ids:
        return []
    sql = (f"SELECT {_EXEC_COLUMNS} FROM {store.table('execlog_executions')} FINAL "
           "WHERE ExecutionId IN {ids:Array(String)}")
    rows = list(store.client.query(sql, parameters={"ids": ids}, settings=_settings(store)).named_results())
    # FINAL collapses rows per sorting key; an execution has one Start, so one row each.
    newest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["ExecutionId"] not in newest or r["AttemptStartNs"] > newest[r["ExecutionId"]]["AttemptStartNs"]:
            newest[r["ExecutionId"]] = r
    rows = [newest[i] for i in ids if i in newest]
    rollups = trace_rollups(store, [r["TraceId"] for r in rows],
                            since_ns=min((r["StartNs"] for r in rows), default=None))
    items = [execution_item(r, rollups.get(r["TraceId"], {})) for r in rows]
    add_max_attempts(store, items)
    return items


def add_max_attempts(store: Store, items: list[dict[str, Any]]) -> None:
    """Set ``max_attempts`` on retried items (read from their latest attempt's root span)."""
    retried = [it for it in items if it["attempt"] > 1]
    for it in items:
        it.setdefault("max_attempts", None)
    if not retried:
        return
    lo = min(parse_time(it["attempt_started_at"], "attempt_started_at") or 0 for it in retried)
    sql = (f"SELECT TraceId, SpanAttributes[{{key:String}}] AS MaxAttempts FROM {store.table('otel_traces')} "
           "WHERE TraceId IN {ids:Array(String)} AND ParentSpanId = '' "
           "AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) - INTERVAL 1 SECOND")
    result = store.client.query(sql, parameters={"key": sc.MAX_ATTEMPTS, "ids": [it["trace_id"] for it in retried],
                                                 "lo": lo}, settings=_settings(store))
    found = {r["TraceId"]: r["MaxAttempts"] for r in result.named_results()}
    for it in retried:
        raw = found.get(it["trace_id"], "")
        it["max_attempts"] = int(raw) if raw.isdigit() and int(raw) > 0 else None


def neighbors(store: Store, f: ListFilter, execution_id: str) -> dict[str, Any]:
    """The executions before and after ``execution_id`` in the listing's order under filter ``f``.

    Keyset lookups on (sort value, ExecutionId), the same order the listing pages through, so a
    detail page can step through the listing it was opened from without holding its pages."""
    row = get_execution_row(store, execution_id)
    if row is None:
        return {"prev": None, "next": None}
    value = row["StartNs"] if f.sort == "started_at" else row["DurationNs"]
    sort_expr = "toUnixTimestamp64Nano(Start)" if f.sort == "started_at" else f"greatest({_DURATION_NS}, 0)"
    out: dict[str, Any] = {}
    ex = store.table("execlog_executions")
    # "next" follows the listing's order; "prev" walks it backwards.
    for key, desc in (("next", f.order == "desc"), ("prev", f.order != "desc")):
        params: dict[str, Any] = {"c_value": value, "c_id": row["ExecutionId"]}
        where = _where(f, params)
        cmp, direction = ("<", "DESC") if desc else (">", "ASC")
        where.append(f"({sort_expr}, ExecutionId) {cmp} ({{c_value:Int64}}, {{c_id:String}})")
        # A live execution's duration grows between the two reads: never answer with itself.
        where.append("ExecutionId != {c_id:String}")
        if f.sort == "started_at":
            where.append(f"Start {cmp}= fromUnixTimestamp64Nano({{c_value:Int64}})")
        order_expr = "Start" if f.sort == "started_at" else sort_expr
        rows = []
        for window in _start_windows(f, desc, value):  # nearest day, week, then all (see list_executions)
            bound = []
            if window is not None:
                bound = [f"Start {'>' if desc else '<'}= fromUnixTimestamp64Nano({{w_bound:Int64}})"]
                params["w_bound"] = window
            sql = (f"SELECT ExecutionId, Name FROM {ex} FINAL WHERE {' AND '.join(where + bound)} "
                   f"ORDER BY {order_expr} {direction}, ExecutionId {direction} LIMIT 1")
            rows = store.client.query(sql, parameters=params, settings=_settings(store)).result_rows
            if rows:
                break
        out[key] = {"id": rows[0][0], "name": rows[0][1]} if rows else None
    return out


def execution_names(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Every agent / automation name with its execution count and latest start (the scope picker)."""
    params: dict[str, Any] = {"limit": MAX_NAMES}
    where = ""
    if kind:
        where = "WHERE Kind = {kind:String}"
        params["kind"] = kind
    # No FINAL: uniqExact over ExecutionId is exact without collapsing replaced rows.
    sql = (f"SELECT Name, Kind, uniqExact(ExecutionId) AS Executions, toUnixTimestamp64Nano(max(Start)) AS LastNs "
           f"FROM {store.table('execlog_executions')} {where} GROUP BY Name, Kind ORDER BY Name, Kind "
           "LIMIT {limit:UInt32}")
    rows = store.client.query(sql, parameters=params, settings=_settings(store)).named_results()
    return [{"name": r["Name"], "kind": r["Kind"], "executions": int(r["Executions"]),
             "last_started_at": iso(r["LastNs"])} for r in rows]


def execution_summary(store: Store, execution_id: str) -> dict[str, Any] | None:
    """The execution's header, input and output without its steps (Quick View): reads only the root
    span and state markers of the latest attempt, so it stays fast for executions of any size."""
    row = get_execution_row(store, execution_id)
    if row is None:
        return None
    roll = trace_rollups(store, [row["TraceId"]], since_ns=row["StartNs"]).get(row["TraceId"], {})
    item = execution_item(row, roll)
    add_max_attempts(store, [item])
    sql = f"""
        SELECT SpanAttributes, toUnixTimestamp64Nano(Timestamp) AS StartNs, ParentSpanId
        FROM {store.table('otel_traces')}
        WHERE TraceId = {{id:String}} AND (ParentSpanId = '' OR SpanAttributes[{{marker:String}}] = {{state:String}})
          AND Timestamp >= fromUnixTimestamp64Nano({{lo:Int64}}) - INTERVAL 1 SECOND
        ORDER BY ParentSpanId = '' DESC, StartNs DESC LIMIT 1"""
    heads = list(store.client.query(sql, parameters={"id": row["TraceId"], "marker": sc.MARKER,
                                                     "state": sc.MARKER_STATE, "lo": row["AttemptStartNs"]},
                                    settings=_settings(store)).named_results())
    a = heads[0]["SpanAttributes"] if heads else {}
    try:
        action_ids = json.loads(a.get(sc.EXECUTED_ACTION_IDS, "[]"))
    except ValueError:
        action_ids = [a.get(sc.EXECUTED_ACTION_IDS)]
    item.update(
        input=span_payload(a, sc.INPUT, sc.INPUT_VALUE),
        output=span_payload(a, sc.OUTPUT, sc.OUTPUT_VALUE),
        trigger=a.get(sc.TRIGGER, ""),
        validation_message=a.get(sc.VALIDATION_MESSAGE, "") or (item["status_message"] if item["status"] in
                                                                 sc.FAILED_STATUSES else ""),
        raised_action=a.get(sc.RAISED_ACTION, ""),
        executed_action_ids=action_ids if isinstance(action_ids, list) else [action_ids],
        execution_time_ms=item["duration_ms"],
        problem_steps=problem_steps(store, row["TraceId"], row["AttemptStartNs"]),
    )
    return item


MAX_PROBLEM_STEPS = 20


def problem_steps(store: Store, trace_id: str, since_ns: int) -> list[dict[str, Any]]:
    """The failed and skipped steps of one attempt, oldest first, at most MAX_PROBLEM_STEPS (Quick View's
    "details of the skipped step" without loading every step)."""
    sql = f"""
        SELECT SpanName, SpanAttributes[{{name_key:String}}] AS StepName,
               SpanAttributes[{{status_key:String}}] AS StepStatus, StatusCode, StatusMessage,
               SpanAttributes[{{skip_key:String}}] AS SkipReason, SpanAttributes[{{vm_key:String}}] AS Validation,
               toUnixTimestamp64Nano(Timestamp) AS StartNs
        FROM {store.table('otel_traces')}
        WHERE TraceId = {{id:String}} AND ParentSpanId != '' AND SpanAttributes[{{marker_key:String}}] = ''
          AND Timestamp >= fromUnixTimestamp64Nano({{lo:Int64}}) - INTERVAL 1 SECOND
          AND (StepStatus IN ('Failed', 'Skipped') OR (StepStatus = '' AND StatusCode = 'Error'))
        ORDER BY Timestamp, SpanId
        LIMIT {{limit:UInt32}}"""
    params = {"id": trace_id, "lo": since_ns, "limit": MAX_PROBLEM_STEPS, "name_key": sc.EXECUTION_NAME,
              "status_key": sc.STEP_STATUS, "skip_key": sc.SKIP_REASON, "vm_key": sc.VALIDATION_MESSAGE,
              "marker_key": sc.MARKER}
    rows = store.client.query(sql, parameters=params, settings=_settings(store)).named_results()
    out = []
    for r in rows:
        status = r["StepStatus"] or sc.StepStatus.FAILED.value
        detail = r["SkipReason"] if status == sc.StepStatus.SKIPPED else (r["Validation"] or r["StatusMessage"])
        out.append({"name": r["StepName"] or r["SpanName"], "status": status, "detail": detail,
                    "started_at": iso(r["StartNs"])})
    return out


def status_facets(store: Store, f: ListFilter) -> dict[str, Any]:
    """Executions per status under every filter of ``f`` but its statuses (the status menu's counts).

    Bounded like the listing's count: at most COUNT_CAP + 1 executions are read, and ``capped`` says
    when the counts are a lower bound."""
    params: dict[str, Any] = {}
    where = _where(ListFilter(kind=f.kind, name=f.name, q=f.q, service=f.service, from_ns=f.from_ns, to_ns=f.to_ns),
                   params)
    sql = (f"SELECT Status, count() AS N FROM (SELECT Status FROM {store.table('execlog_executions')} FINAL"
           + (f" WHERE {' AND '.join(where)}" if where else "")
           + f" LIMIT {COUNT_CAP + 1}) GROUP BY Status")
    rows = store.client.query(sql, parameters=params, settings=_settings(store)).result_rows
    counts = {status: int(n) for status, n in rows}
    return {"status": {s.value: counts.get(s.value, 0) for s in sc.Status},
            "capped": sum(counts.values()) > COUNT_CAP}
