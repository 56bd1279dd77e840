"""Writes the dashboard JSON files in this folder from the panel SQL below.

    python dashboards/build.py          # rewrite execution-overview.json, agents.json, automations.json

The JSON files are what Grafana imports or provisions; this script is how they are maintained, so
every panel's SQL sits in one readable place. ``tests/test_dashboards.py`` checks the files match
this script and runs every panel's SQL, with the plugin's macros and Grafana's template variables
expanded as they would be, against the real ClickHouse engine.

Panels read the derived tables where they can: ``execlog_executions`` (one row per execution,
newest state; read with FINAL) and ``execlog_trace_rollups`` (per-trace sums, merged with
GROUP BY TraceId), joined on TraceId. Only per-span questions (tokens per model, which step
failed) read ``otel_traces``, always bounded by ``$__timeFilter(Timestamp)`` so ClickHouse prunes
the day partitions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLUGIN = "grafana-clickhouse-datasource"
DATASOURCE_UID = "execlog-clickhouse"
DS = {"type": PLUGIN, "uid": "${datasource}"}
SCHEMA_VERSION = 39
# The plugin's query format numbers (src/types: TIMESERIES=0, TABLE=1, LOGS=2, TRACE=3).
FORMAT_TIMESERIES, FORMAT_TABLE, FORMAT_TRACE = 0, 1, 3

EXECUTIONS = "${database}.execlog_executions"
ROLLUPS = "${database}.execlog_trace_rollups"
SPANS = "${database}.otel_traces"
TRACE_TS = "${database}.otel_traces_trace_id_ts"
COSTS = "${database}.execlog_llm_costs"  # prices applied in ClickHouse: the viewer's numbers
ATTEMPTS = "${database}.execlog_attempts"
STEPS = "${database}.execlog_steps"

LIVE = "('Running', 'Queued', 'Pending', 'Paused')"
FAILED = "('Failed', 'Rejected')"


def cond_all(condition: str, var: str) -> str:
    """The plugin's $__conditionalAll: the condition, or 1=1 when the variable is All."""
    return f"$__conditionalAll({condition}, ${var})"


NAME_FILTER = cond_all("Name IN (${name:singlequote})", "name")
SERVICE_FILTER = cond_all("ServiceName IN (${service:singlequote})", "service")
KIND_FILTER = cond_all("Kind IN (${kind:singlequote})", "kind")
OVERVIEW_FILTER = f"{KIND_FILTER} AND {NAME_FILTER} AND {SERVICE_FILTER}"
AGENT_FILTER = f"Kind = 'agent' AND {NAME_FILTER} AND {SERVICE_FILTER}"
AUTOMATION_FILTER = f"Kind = 'automation' AND {NAME_FILTER} AND {SERVICE_FILTER}"

# Latest attempt's duration in ms; live executions (AttemptEnd = epoch) are left out by the callers.
DURATION_MS = "toUnixTimestamp64Milli(AttemptEnd) - toUnixTimestamp64Milli(AttemptStart)"
FINISHED = "AttemptEnd > toDateTime64(0, 9)"
# Execution id of a root span: retries carry the first attempt's trace id in execlog.retry_of.
ROOT_EXECUTION_ID = ("if(SpanAttributes['execlog.retry_of'] != '', SpanAttributes['execlog.retry_of'], TraceId)")
# Model and tokens of one span, with the same fallbacks as execlog_trace_rollups (current GenAI
# names, then the deprecated ones, then OpenInference).
SPAN_MODEL = ("multiIf(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], "
              "SpanAttributes['gen_ai.request.model'] != '', SpanAttributes['gen_ai.request.model'], "
              "SpanAttributes['llm.model_name'])")
SPAN_TOKENS = (
    "greatest("
    "multiIf(SpanAttributes['gen_ai.usage.input_tokens'] != '', "
    "toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']), "
    "SpanAttributes['gen_ai.usage.prompt_tokens'] != '', toUInt64OrZero(SpanAttributes['gen_ai.usage.prompt_tokens']), "
    "toUInt64OrZero(SpanAttributes['llm.token_count.prompt'])) + "
    "multiIf(SpanAttributes['gen_ai.usage.output_tokens'] != '', "
    "toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']), "
    "SpanAttributes['gen_ai.usage.completion_tokens'] != '', "
    "toUInt64OrZero(SpanAttributes['gen_ai.usage.completion_tokens']), "
    "toUInt64OrZero(SpanAttributes['llm.token_count.completion'])), "
    "toUInt64OrZero(SpanAttributes['llm.token_count.total']))")
# Collector versions before the OTLP pdata rename wrote STATUS_CODE_ERROR / SPAN_KIND_CLIENT; read both.
SPAN_ERROR = "StatusCode IN ('Error', 'STATUS_CODE_ERROR')"
SPAN_OK = "StatusCode IN ('Ok', 'STATUS_CODE_OK')"
SPAN_KIND = "if(startsWith(SpanKind, 'SPAN_KIND_'), initcap(lower(substring(SpanKind, 11))), SpanKind)"


def sql(*lines: str) -> str:
    return "\n".join(lines)


# --- panel SQL ---------------------------------------------------------------------------------
def trace_view_sql() -> str:
    """The trace of ${trace_id} in the frame Grafana's trace view reads, as the plugin's OTel trace
    mode builds it: bounded in time through otel_traces_trace_id_ts. Live-state markers (zero-length
    spans that only carry an execution's state while it runs) are left out: they are not steps."""
    return sql(
        "WITH '${trace_id}' AS trace_id,",
        f"  (SELECT min(Start) FROM {TRACE_TS} WHERE TraceId = trace_id) AS trace_start,",
        f"  (SELECT max(End) + 1 FROM {TRACE_TS} WHERE TraceId = trace_id) AS trace_end",
        "SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID, ServiceName AS serviceName,",
        "  SpanName AS operationName, multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,",
        f"  multiply(Duration, 0.000001) AS duration, {SPAN_KIND} AS kind,",
        f"  multiIf({SPAN_ERROR}, 2, {SPAN_OK}, 1, 0) AS statusCode, StatusMessage AS statusMessage,",
        "  arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,",
        "  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes))"
        " AS serviceTags",
        f"FROM {SPANS}",
        "WHERE TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end",
        "  AND SpanAttributes['execlog.marker'] = ''",
        "ORDER BY Timestamp ASC LIMIT 5000")


OVERVIEW = {
    "status_over_time": sql(
        "SELECT $__timeInterval(Start) AS time, Status, count() AS executions",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER}",
        "GROUP BY time, Status ORDER BY time, Status"),
    "success_rate": sql(
        f"SELECT countIf(Status = 'Success') / nullIf(countIf(Status NOT IN {LIVE}), 0) AS success_rate",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE Start >= $__fromTime AND Start <= $__toTime AND {OVERVIEW_FILTER}"),
    "failures": sql(
        f"SELECT countIf(Status IN {FAILED}) AS failed, countIf(Status = 'Partially Executed') AS partially_executed",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE Start >= $__fromTime AND Start <= $__toTime AND {OVERVIEW_FILTER}"),
    "retries": sql(
        "SELECT countIf(Attempt > 1) AS retried, countIf(Attempt > 1 AND Status = 'Success') AS succeeded_on_retry",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER}"),
    "duration_percentiles": sql(
        "SELECT Kind AS kind, Name AS name, count() AS executions,",
        "  quantileExact(0.5)(DurationMs) AS p50_ms, quantileExact(0.95)(DurationMs) AS p95_ms",
        f"FROM (SELECT Kind, Name, {DURATION_MS} AS DurationMs FROM {EXECUTIONS} FINAL",
        f"      WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER} AND {FINISHED})",
        "GROUP BY kind, name ORDER BY kind, name"),
    "p95_over_time": sql(
        "SELECT $__timeInterval(Start) AS time, Kind AS kind,",
        f"  quantileExact(0.95)({DURATION_MS}) AS p95_ms",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER} AND {FINISHED}",
        "GROUP BY time, kind ORDER BY time, kind"),
    "recent_failures": sql(
        "SELECT e.Start AS started, e.Name AS name, e.Kind AS kind, e.Status AS status, e.StatusMessage AS message,",
        "  e.ServiceName AS service, e.Attempt AS attempt, r.FailedSteps AS failed_steps,",
        "  e.ExecutionId AS execution_id, e.TraceId AS trace_id",
        "FROM (SELECT Start, Name, Kind, Status, StatusMessage, ServiceName, Attempt, ExecutionId, TraceId",
        f"      FROM {EXECUTIONS} FINAL",
        f"      WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER} AND Status IN {FAILED}) AS e",
        "LEFT JOIN (SELECT TraceId, sum(FailedSteps) AS FailedSteps",
        f"           FROM {ROLLUPS}",
        f"           WHERE TraceId IN (SELECT TraceId FROM {EXECUTIONS} FINAL",
        f"                             WHERE $__timeFilter(Start) AND Status IN {FAILED})",
        "           GROUP BY TraceId) AS r ON r.TraceId = e.TraceId",
        "ORDER BY started DESC LIMIT 100"),
    "trace": trace_view_sql(),
}


def _rollup_items(column: str, alias: str, limit: int | None = None) -> str:
    lines = [
        f"SELECT item AS {alias}, count() AS executions",
        f"FROM (SELECT TraceId, groupUniqArrayArray({column}) AS items",
        f"      FROM {ROLLUPS}",
        f"      WHERE TraceId IN (SELECT TraceId FROM {EXECUTIONS} FINAL",
        f"                        WHERE $__timeFilter(Start) AND {AGENT_FILTER})",
        "      GROUP BY TraceId)",
        "ARRAY JOIN items AS item",
        f"GROUP BY {alias} ORDER BY executions DESC, {alias}",
    ]
    if limit:
        lines.append(f"LIMIT {limit}")
    return sql(*lines)


def cost_traces(condition: str) -> str:
    """Attempt traces of the executions ``condition`` selects, started in the time range."""
    return (f"TraceId IN (SELECT TraceId FROM {ATTEMPTS} WHERE $__timeFilter(Start) AND {condition})")


COST = {
    "cost_over_time": sql(
        "SELECT $__timeInterval(Start) AS time, Model AS model, sum(CostUsd) AS cost_usd",
        f"FROM {COSTS}",
        f"WHERE $__timeFilter(Start) AND Model != '' AND {cost_traces(OVERVIEW_FILTER)}",
        "GROUP BY time, model ORDER BY time, model"),
    "cost_by_name": sql(
        "SELECT a.Kind AS kind, a.Name AS name, uniqExact(a.ExecutionId) AS executions,",
        "  sum(c.CostUsd) AS cost_usd, countIf(c.Unpriced) AS unpriced_steps",
        f"FROM {COSTS} AS c",
        f"INNER JOIN (SELECT DISTINCT TraceId, ExecutionId, Name, Kind FROM {ATTEMPTS}",
        f"            WHERE $__timeFilter(Start) AND {OVERVIEW_FILTER}) AS a ON c.TraceId = a.TraceId",
        "WHERE $__timeFilter(c.Start)",
        "GROUP BY kind, name ORDER BY cost_usd DESC, name"),
    "cost_by_model": sql(
        "SELECT Model AS model, PricedAs AS priced_as, count() AS calls, sum(TotalTokens) AS tokens,",
        "  sum(CostUsd) AS cost_usd",
        f"FROM {COSTS}",
        f"WHERE $__timeFilter(Start) AND Model != '' AND {cost_traces(AGENT_FILTER)}",
        "GROUP BY model, priced_as ORDER BY cost_usd DESC, model"),
}

AGENTS = {
    "tokens_by_model": sql(
        "SELECT $__timeInterval(Timestamp) AS time, Model AS model, sum(Tokens) AS tokens",
        f"FROM (SELECT Timestamp, TraceId, {SPAN_MODEL} AS Model, {SPAN_TOKENS} AS Tokens",
        f"      FROM {SPANS}",
        f"      WHERE $__timeFilter(Timestamp) AND ParentSpanId != '' AND {SERVICE_FILTER})",
        "WHERE Model != '' AND " + cond_all(
            f"TraceId IN (SELECT TraceId FROM {EXECUTIONS} FINAL WHERE $__timeFilter(Start)"
            " AND Name IN (${name:singlequote}))", "name"),
        "GROUP BY time, model ORDER BY time, model"),
    # GenAI instrumentations' own metrics (OTLP, received into the Collector's metric tables):
    # gen_ai.client.token.usage and gen_ai.client.operation.duration are histograms per model.
    "metric_token_usage": sql(
        "SELECT $__timeInterval(TimeUnix) AS time,",
        "  concat(Attributes['gen_ai.request.model'], ' ', Attributes['gen_ai.token.type']) AS series,",
        "  sum(Sum) AS tokens",
        "FROM ${database}.otel_metrics_histogram",
        "WHERE $__timeFilter(TimeUnix) AND MetricName = 'gen_ai.client.token.usage' AND "
        + SERVICE_FILTER,
        "GROUP BY time, series ORDER BY time, series"),
    "metric_operation_duration": sql(
        "SELECT $__timeInterval(TimeUnix) AS time, Attributes['gen_ai.request.model'] AS model,",
        "  sum(Sum) / nullIf(sum(Count), 0) AS mean_seconds",
        "FROM ${database}.otel_metrics_histogram",
        "WHERE $__timeFilter(TimeUnix) AND MetricName = 'gen_ai.client.operation.duration' AND "
        + SERVICE_FILTER,
        "GROUP BY time, model ORDER BY time, model"),
    "model_mix": _rollup_items("Models", "model"),
    "top_tools": _rollup_items("Tools", "tool", 10),
    "top_connectors": _rollup_items("Connectors", "connector", 10),
    "token_hungry": sql(
        "SELECT e.Name AS name, e.Status AS status, e.Start AS started, e.Attempt AS attempts,",
        "  sum(r.InputTokens) AS input_tokens, sum(r.OutputTokens) AS output_tokens, sum(r.TotalTokens) AS tokens,",
        "  e.ExecutionId AS execution_id",
        "FROM (SELECT ExecutionId, Name, Status, Start, Attempt",
        f"      FROM {EXECUTIONS} FINAL WHERE $__timeFilter(Start) AND {AGENT_FILTER}) AS e",
        f"INNER JOIN (SELECT {ROOT_EXECUTION_ID} AS ExecutionId, TraceId",
        f"            FROM {SPANS} WHERE $__timeFilter(Timestamp) AND ParentSpanId = '') AS a",
        "  ON a.ExecutionId = e.ExecutionId",
        "INNER JOIN (SELECT TraceId, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,",
        "                   sum(TotalTokens) AS TotalTokens",
        f"            FROM {ROLLUPS}",
        f"            WHERE TraceId IN (SELECT TraceId FROM {SPANS} WHERE $__timeFilter(Timestamp)"
        " AND ParentSpanId = '')",
        "            GROUP BY TraceId) AS r ON r.TraceId = a.TraceId",
        "GROUP BY e.ExecutionId, e.Name, e.Status, e.Start, e.Attempt",
        "ORDER BY tokens DESC, name LIMIT 10"),
}

AUTOMATIONS = {
    "runs_over_time": sql(
        "SELECT $__timeInterval(Start) AS time, Name AS automation, count() AS runs",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {AUTOMATION_FILTER}",
        "GROUP BY time, automation ORDER BY time, automation"),
    "runs_by_status": sql(
        "SELECT Name AS automation, count() AS runs, countIf(Status = 'Success') AS success,",
        "  countIf(Status = 'Failed') AS failed, countIf(Status = 'Partially Executed') AS partially_executed,",
        f"  countIf(Status = 'Rejected') AS rejected, countIf(Status IN {LIVE}) AS live",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {AUTOMATION_FILTER}",
        "GROUP BY automation ORDER BY runs DESC, automation"),
    "throughput": sql(
        "SELECT $__timeInterval(Start) AS time, count() * 60 / $__interval_s AS runs_per_minute",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {AUTOMATION_FILTER}",
        "GROUP BY time ORDER BY time"),
    # Which spans are steps and which failed is the steps table's rule (execlog_steps: no HTTP requests
    # carrying model calls, no state markers); the spans give only the latest failure's message.
    "failing_steps": sql(
        f"WITH failed AS (SELECT StepName, TraceId, Start FROM {STEPS}",
        f"                WHERE $__timeFilter(Start) AND Failed = 1 AND {cost_traces(AUTOMATION_FILTER)})",
        "SELECT f.StepName AS step, count() AS failures, uniqExact(f.TraceId) AS runs,",
        "  argMax(e.StatusMessage, f.Start) AS last_error",
        "FROM failed AS f",
        f"ANY LEFT JOIN (SELECT TraceId, Timestamp, StatusMessage FROM {SPANS}",
        "               WHERE $__timeFilter(Timestamp) AND TraceId IN (SELECT TraceId FROM failed)) AS e",
        "  ON e.TraceId = f.TraceId AND e.Timestamp = f.Start",
        "GROUP BY step ORDER BY failures DESC, step LIMIT 10"),
    "partial_and_rejected": sql(
        "SELECT $__timeInterval(Start) AS time, countIf(Status = 'Partially Executed') AS partially_executed,",
        "  countIf(Status = 'Rejected') AS rejected",
        f"FROM {EXECUTIONS} FINAL",
        f"WHERE $__timeFilter(Start) AND {AUTOMATION_FILTER}",
        "GROUP BY time ORDER BY time"),
    "duration_distribution": sql(
        "SELECT multiIf(DurationMs < 1000, '< 1 s', DurationMs < 5000, '1-5 s', DurationMs < 30000, '5-30 s',",
        "               DurationMs < 300000, '30 s-5 min', '>= 5 min') AS duration, count() AS runs",
        f"FROM (SELECT {DURATION_MS} AS DurationMs FROM {EXECUTIONS} FINAL",
        f"      WHERE $__timeFilter(Start) AND {AUTOMATION_FILTER} AND {FINISHED})",
        "GROUP BY duration ORDER BY min(DurationMs)"),
    "trace": trace_view_sql(),
}


# --- dashboard structure -------------------------------------------------------------------------
def variables(kind: str | None) -> list[dict[str, Any]]:
    """Template variables: data source, database, viewer URL, kind (overview only), name, service, trace id."""
    out: list[dict[str, Any]] = [
        {"type": "datasource", "name": "datasource", "label": "ClickHouse", "query": PLUGIN, "hide": 0,
         "current": {"text": "execlog ClickHouse", "value": DATASOURCE_UID}, "refresh": 1, "regex": ""},
        {"type": "constant", "name": "database", "label": "Database", "query": "otel", "hide": 2,
         "description": "Database holding otel_traces and the execlog tables (EXECLOG_DATABASE)"},
        {"type": "textbox", "name": "viewer_url", "label": "Viewer URL", "query": "http://127.0.0.1:4318",
         "current": {"text": "http://127.0.0.1:4318", "value": "http://127.0.0.1:4318"}, "hide": 0,
         "description": "Base URL of the execlog viewer (execlog serve / execlog viewer); rows link to its pages"},
    ]

    def query_var(name: str, label: str, rawsql: str) -> dict[str, Any]:
        return {"type": "query", "name": name, "label": label, "datasource": DS, "definition": rawsql,
                "query": rawsql, "refresh": 2, "multi": True, "includeAll": True, "sort": 1, "hide": 0,
                "current": {"text": ["All"], "value": ["$__all"]}, "options": [], "regex": ""}

    if kind is None:
        out.append(query_var("kind", "Kind", sql(
            f"SELECT DISTINCT Kind FROM {EXECUTIONS} WHERE $__timeFilter(Start) ORDER BY Kind")))
        name_where = KIND_FILTER
    else:
        name_where = f"Kind = '{kind}'"
    out.append(query_var("name", "Agent" if kind == "agent" else "Automation" if kind else "Name", sql(
        f"SELECT DISTINCT Name FROM {EXECUTIONS} WHERE $__timeFilter(Start) AND {name_where} ORDER BY Name")))
    out.append(query_var("service", "Service", sql(
        f"SELECT DISTINCT ServiceName FROM {EXECUTIONS} WHERE $__timeFilter(Start)"
        + (f" AND Kind = '{kind}'" if kind else "") + " ORDER BY ServiceName")))
    out.append({"type": "textbox", "name": "trace_id", "label": "Trace id", "query": "", "hide": 0,
                "current": {"text": "", "value": ""},
                "description": "Trace shown in the trace view; set by clicking a trace id in a table"})
    return out


def target(rawsql: str, fmt: int, query_type: str) -> dict[str, Any]:
    return {"refId": "A", "datasource": DS, "editorType": "sql", "format": fmt, "queryType": query_type,
            "rawSql": rawsql, "pluginVersion": "4.0.0"}


def execution_link_override(field: str = "execution_id") -> dict[str, Any]:
    return {"matcher": {"id": "byName", "options": field}, "properties": [{"id": "links", "value": [
        {"title": "Open in the execlog viewer", "url": "${viewer_url}/executions/${__value.raw}",
         "targetBlank": True}]}]}


def trace_link_override(dashboard_uid: str) -> dict[str, Any]:
    return {"matcher": {"id": "byName", "options": "trace_id"}, "properties": [{"id": "links", "value": [
        {"title": "Show this trace", "url": f"/d/{dashboard_uid}?${{__url_time_range}}&${{datasource:queryparam}}"
                                           "&${kind:queryparam}&${name:queryparam}&${service:queryparam}"
                                           "&var-trace_id=${__value.raw}"}]}]}


class Layout:
    """Places panels left to right, 24 columns wide."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1

    def place(self, w: int, h: int) -> dict[str, int]:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos


def panel(layout: Layout, ptype: str, title: str, description: str, rawsql: str, fmt: int, query_type: str,
          w: int, h: int, field_config: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
          overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    pid = layout.next_id
    layout.next_id += 1
    return {"id": pid, "type": ptype, "title": title, "description": description, "datasource": DS,
            "gridPos": layout.place(w, h),
            "fieldConfig": {"defaults": field_config or {}, "overrides": overrides or []},
            "options": options or {}, "targets": [target(rawsql, fmt, query_type)]}


def dashboard(uid: str, title: str, description: str, kind: str | None, panels: list[dict[str, Any]]) -> dict:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["execlog"],
        "editable": True, "graphTooltip": 1, "schemaVersion": SCHEMA_VERSION, "version": 1,
        "time": {"from": "now-24h", "to": "now"}, "timezone": "browser", "refresh": "1m",
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["execlog"], "asDropdown": False, "title": "execlog",
                   "includeVars": False, "keepTime": True}],
        "templating": {"list": variables(kind)}, "panels": panels,
    }


def trace_panel(layout: Layout, rawsql: str) -> dict[str, Any]:
    return panel(layout, "traces", "Trace of the selected execution",
                 "Grafana's trace view of ${trace_id} (the plugin's OTel trace mode over otel_traces); "
                 "click a trace id in a table above to fill it.", rawsql, FORMAT_TRACE, "traces", 24, 12)


def build_overview() -> dict:
    q, lay = OVERVIEW, Layout()
    percent = {"unit": "percentunit", "min": 0, "max": 1, "decimals": 1}
    panels = [
        panel(lay, "timeseries", "Executions over time by status",
              "Executions started in each interval, by their current status (execlog_executions FINAL).",
              q["status_over_time"], FORMAT_TIMESERIES, "timeseries", 12, 8,
              {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}),
        panel(lay, "stat", "Success rate", "Success / finished executions (live ones left out).",
              q["success_rate"], FORMAT_TABLE, "table", 4, 4, percent),
        panel(lay, "stat", "Failures", "Failed or Rejected, and Partially Executed, executions.",
              q["failures"], FORMAT_TABLE, "table", 4, 4),
        panel(lay, "stat", "Retries", "Executions that needed more than one attempt, and how many then succeeded.",
              q["retries"], FORMAT_TABLE, "table", 4, 4),
        panel(lay, "table", "Duration p50 / p95 per agent and automation",
              "Latest attempt's duration of finished executions, in ms.",
              q["duration_percentiles"], FORMAT_TABLE, "table", 12, 8, {"unit": "ms"}),
        panel(lay, "timeseries", "p95 duration over time", "95th percentile of the duration, by kind.",
              q["p95_over_time"], FORMAT_TIMESERIES, "timeseries", 12, 8, {"unit": "ms"}),
        panel(lay, "table", "Recent failed executions",
              "Failed and Rejected executions, newest first; the execution id opens the viewer's detail page, "
              "the trace id the trace view below.",
              q["recent_failures"], FORMAT_TABLE, "table", 24, 10,
              overrides=[execution_link_override(), trace_link_override("execlog-overview")]),
        panel(lay, "timeseries", "Cost over time by model",
              "USD per interval and model (execlog_llm_costs: token counts x the price table in force, plus "
              "costs runners report; models without a price are not in the sum).",
              COST["cost_over_time"], FORMAT_TIMESERIES, "timeseries", 12, 8,
              {"unit": "currencyUSD", "custom": {"drawStyle": "bars", "stacking": {"mode": "normal"},
                                                 "fillOpacity": 80}}),
        panel(lay, "table", "Cost per agent and automation",
              "USD summed over every attempt; unpriced_steps counts LLM steps whose model has no price.",
              COST["cost_by_name"], FORMAT_TABLE, "table", 12, 8,
              overrides=[{"matcher": {"id": "byName", "options": "cost_usd"},
                          "properties": [{"id": "unit", "value": "currencyUSD"}]}]),
    ]
    panels.append(trace_panel(lay, q["trace"]))
    return dashboard("execlog-overview", "execlog / Execution overview",
                     "Executions of agents and automations: status, success rate, failures, durations, retries.",
                     None, panels)


def build_agents() -> dict:
    q, lay = AGENTS, Layout()
    panels = [
        panel(lay, "timeseries", "Tokens by model", "Input + output tokens of LLM calls, per model "
              "(otel_traces spans of the selected services).",
              q["tokens_by_model"], FORMAT_TIMESERIES, "timeseries", 16, 8,
              {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}),
        panel(lay, "piechart", "Model mix", "Agent executions that used each model (execlog_trace_rollups).",
              q["model_mix"], FORMAT_TABLE, "table", 8, 8, options={"reduceOptions": {"values": True}}),
        panel(lay, "barchart", "Top tools", "Agent executions that called each tool.",
              q["top_tools"], FORMAT_TABLE, "table", 12, 8, options={"orientation": "horizontal"}),
        panel(lay, "barchart", "Top connectors", "Agent executions that used each connector.",
              q["top_connectors"], FORMAT_TABLE, "table", 12, 8, options={"orientation": "horizontal"}),
        panel(lay, "timeseries", "Token usage metric by model", "gen_ai.client.token.usage as the GenAI "
              "instrumentations report it over OTLP metrics (otel_metrics_histogram), per model and token type.",
              q["metric_token_usage"], FORMAT_TIMESERIES, "timeseries", 12, 8,
              {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}),
        panel(lay, "timeseries", "Model call duration metric", "Mean of gen_ai.client.operation.duration "
              "(seconds) per model, from OTLP metrics (otel_metrics_histogram).",
              q["metric_operation_duration"], FORMAT_TIMESERIES, "timeseries", 12, 8),
        panel(lay, "table", "Most token-hungry executions",
              "Tokens summed over every attempt of the execution; the execution id opens the viewer.",
              q["token_hungry"], FORMAT_TABLE, "table", 24, 10, overrides=[execution_link_override()]),
        panel(lay, "table", "Cost by model",
              "USD per model of agent executions, with the price-table name it matched (empty: no price).",
              COST["cost_by_model"], FORMAT_TABLE, "table", 24, 8,
              overrides=[{"matcher": {"id": "byName", "options": "cost_usd"},
                          "properties": [{"id": "unit", "value": "currencyUSD"}]}]),
    ]
    return dashboard("execlog-agents", "execlog / Agents",
                     "Agents: tokens by model, model mix, tools, connectors and the most token-hungry executions.",
                     "agent", panels)


def build_automations() -> dict:
    q, lay = AUTOMATIONS, Layout()
    panels = [
        panel(lay, "timeseries", "Runs per automation", "Runs started in each interval, per automation.",
              q["runs_over_time"], FORMAT_TIMESERIES, "timeseries", 12, 8,
              {"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}, "fillOpacity": 80}}),
        panel(lay, "table", "Runs per automation by status", "Runs in the time range and how they ended.",
              q["runs_by_status"], FORMAT_TABLE, "table", 12, 8),
        panel(lay, "timeseries", "Throughput", "Runs per minute, averaged over each interval ($__interval_s).",
              q["throughput"], FORMAT_TIMESERIES, "timeseries", 12, 8, {"unit": "short"}),
        panel(lay, "table", "Steps that fail most", "Failed steps of automation runs (every attempt), "
              "with the latest error.", q["failing_steps"], FORMAT_TABLE, "table", 12, 8),
        panel(lay, "timeseries", "Partially executed and rejected", "Runs that ended Partially Executed "
              "(some steps failed or were skipped) or Rejected (past their time budget).",
              q["partial_and_rejected"], FORMAT_TIMESERIES, "timeseries", 12, 8),
        panel(lay, "barchart", "Duration distribution", "Finished runs by duration of their latest attempt.",
              q["duration_distribution"], FORMAT_TABLE, "table", 12, 8),
    ]
    panels.append(trace_panel(lay, q["trace"]))
    return dashboard("execlog-automations", "execlog / Automations",
                     "Automations: runs, failing steps, partially executed and rejected trends, durations.",
                     "automation", panels)


DASHBOARDS = {
    "execution-overview.json": build_overview,
    "agents.json": build_agents,
    "automations.json": build_automations,
}


def render(builder) -> str:
    return json.dumps(builder(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for filename, builder in DASHBOARDS.items():
        (HERE / filename).write_text(render(builder), encoding="utf-8")
        print(f"wrote {HERE / filename}")


if __name__ == "__main__":
    main()
