"""``execlog status`` and ``GET /api/status``: the store, the retention in force, the write-ahead log (backlog,
insert lag, oldest unwritten span's age, dropped, damaged, dead-lettered), what was written.

One ``collect`` serves both. The command asks a running ``execlog serve`` (it
owns the embedded store and the log) when there is one, and otherwise reads
the store and the log directory itself.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import click
from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from execlog_otel.config import Settings, redact_url
from execlog_otel.store import health
from execlog_otel.store.client import DataDirLock, StoreError
from execlog_otel.store.store import SPAN_TABLE, Store

bp = Blueprint("status", __name__)

_TTL_DAYS = re.compile(r"toIntervalDay\((\d+)\)")


def store_status(store: Store, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "url": "embedded" if settings.embedded else redact_url(settings.store_url),
        "data_dir": str(settings.resolved_data_dir) if settings.embedded else None,
        "database": store.database,
        "reachable": True,
        "error": "",
        "spans_stored": None,
        "retention_days": settings.retention_days,
        "health": None,
    }
    try:
        out["spans_stored"] = int(store.pool.query(f"SELECT count() FROM {store.table(SPAN_TABLE)}",
                                                     settings={"max_execution_time": 5}).result_rows[0][0])
        ttl = _TTL_DAYS.search(store.table_ttl(SPAN_TABLE))
        if ttl:
            out["retention_days"] = int(ttl.group(1))  # the TTL in force on the table, not only the setting
        out["health"] = health.report(store, out["retention_days"])
    except Exception as exc:  # noqa: BLE001 - status reports the failure instead of failing
        out["reachable"] = False
        out["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return out


def ingest_status(sink: Any) -> dict[str, Any]:
    """The receiver's counters (spans accepted and written, the log's backlog, the insert lag), or empty ones
    for an app without a receiver."""
    if sink is None:
        return {"spans_accepted": None, "spans_written": None, "store_error": "", "insert_lag_s": None,
                "dead_letter_spans": None, "log": None}
    return sink.status()


def collect(store: Store, settings: Settings, sink: Any = None) -> dict[str, Any]:
    """Everything ``execlog status`` shows, as JSON-ready data."""
    from execlog_otel.store.filters import MAX_PAGE
    from execlog_otel.store.repository import MAX_STEPS

    ingest = ingest_status(sink)
    s = store_status(store, settings)
    return {
        "store": s,
        "retention_days": s["retention_days"],
        "ingest": ingest,
        "limits": {"query_timeout_s": settings.query_timeout_s, "max_body_bytes": settings.max_body_bytes,
                   "steps_per_page": MAX_STEPS, "executions_per_page": MAX_PAGE,
                   "spool_max_bytes": settings.spool_max_bytes,
                   "max_spans_per_request": settings.max_spans_per_request},
        "access": {"auth": settings.auth_enabled, "ingest_token": bool(settings.ingest_token),
                   "host": settings.host},
    }


def retention_in_force(store: Store, settings: Settings) -> int:
    """The retention the store applies (its TTL); the setting if the table says nothing or cannot be read."""
    try:
        ttl = _TTL_DAYS.search(store.table_ttl(SPAN_TABLE))
    except Exception:  # noqa: BLE001 - unreachable store: show the setting, the page reports the rest
        return settings.retention_days
    return int(ttl.group(1)) if ttl else settings.retention_days


@bp.app_context_processor
def retention_context() -> dict[str, Any]:
    """``retention_days`` for every template (the footer of the viewer's pages), read when the app was built."""
    from execlog_otel.viewer.services import services

    return {"retention_days": services().retention_days}


@bp.get("/api/status")
def api_status() -> Any:
    from execlog_otel.viewer.services import services

    s = services()
    only = request.args.get("only", "")
    if only == "ingest":  # the ingest counters alone: no query to the store (cheap enough to poll many times a second)
        return jsonify(ingest=ingest_status(s.sink))
    if only:
        raise BadRequest(f"unknown section {only!r}: 'only' takes 'ingest'")
    return jsonify(collect(s.store, s.settings, s.sink))


def format_status(data: dict[str, Any]) -> str:
    s, ingest = data["store"], data["ingest"]
    where = f"embedded ({s['data_dir']})" if s["url"] == "embedded" else s["url"]
    lines = [f"store:      {where}, database {s['database']}"
             + ("" if s["reachable"] else f" — NOT REACHABLE: {s['error']}")]
    if s["spans_stored"] is not None:
        lines.append(f"spans:      {s['spans_stored']} stored")
    lines.append(f"retention:  {data['retention_days']} days")
    lines.extend(_health_lines(s.get("health")))
    if ingest.get("spans_written") is not None:
        lines.append(f"written:    {ingest['spans_written']} spans since start"
                     f" ({ingest.get('spans_accepted') or 0} accepted)")
    lines.extend(_log_lines(ingest))
    if ingest.get("store_error"):
        lines.append(f"last error: {ingest['store_error']}")
    return "\n".join(lines) + "\n"


def _health_lines(h: dict[str, Any] | None) -> list[str]:
    """The store's health: parts, merges, disk, oldest partition, warnings."""
    if not h:
        return []
    tables = h["tables"]
    parts = sum(t["parts"] for t in tables.values())
    partitions = sum(len(t["partitions"]) for t in tables.values())
    worst = max(tables.items(), key=lambda kv: kv[1]["max_parts_in_partition"], default=None)
    lines = [f"parts:      {parts} active in {partitions} partitions of {len(tables)} tables, "
             f"{h['bytes_on_disk'] / 2**20:.1f} MiB"
             + (f"; most in one partition: {worst[1]['max_parts_in_partition']} ({worst[0]})" if worst else "")]
    m = h["merges"]
    lines.append(f"merges:     {m['in_progress']} in progress, {m['mutations_in_progress']} mutations")
    for d in h["disks"]:
        share = f" ({d['used_share']:.0%} used)" if d["used_share"] is not None else ""
        lines.append(f"disk:       {d['name']}: {d['used_bytes'] / 2**30:.1f} GiB used, "
                     f"{d['free_bytes'] / 2**30:.1f} GiB free{share}")
    oldest = h["oldest_partition"]
    if oldest["day"]:
        lines.append(f"oldest:     {oldest['day']} ({oldest['age_days']} days; spans)")
    lines.extend(f"WARNING:    {w}" for w in h["warnings"])
    return lines


def _log_lines(ingest: dict[str, Any]) -> list[str]:
    """The write-ahead log's part of ``execlog status``."""
    wal = ingest.get("log")
    if not wal:
        return ["log:        off (each request is inserted before it is answered)"]
    lines = [f"log:        {wal['bytes']} of {wal['max_bytes']} bytes, {wal['pending_spans']} spans "
             f"waiting, {wal['dropped_spans']} dropped ({wal['directory']})",
             f"backlog:    oldest unwritten span waited {wal['oldest_pending_age_s']:.1f} s; insert lag "
             f"{ingest.get('insert_lag_s') or 0:.1f} s"]
    if wal.get("damaged_records") or wal.get("lost_spans"):
        lines.append(f"damaged:    {wal['damaged_records']} damaged log records skipped, "
                     f"{wal['lost_spans']} spans lost (see the server log)")
    if wal.get("duplicate_requests"):
        lines.append(f"re-sends:   {wal['duplicate_requests']} re-sent requests recognised, stored once")
    if ingest.get("dead_letter_spans"):
        lines.append(f"dead letter: {ingest['dead_letter_spans']} spans the store refused "
                     "(execlog dead-letter list)")
    return lines


def _from_server(url: str, settings: Settings) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if settings.auth_token:
        headers["Authorization"] = f"Bearer {settings.auth_token}"
    req = urllib.request.Request(url.rstrip("/") + "/api/status", headers=headers)
    with urllib.request.urlopen(req, timeout=15) as resp:
        return json.loads(resp.read())


def local_status(settings: Settings) -> dict[str, Any]:
    """Status without a server: open the store read-only where possible and read the log directory."""
    from execlog_otel.ingest import dead_letter
    from execlog_otel.ingest.wal import read_status

    store = Store.open(settings.store_url, settings.database, settings.retention_days, migrate=False,
                       readonly=True)
    try:
        data = collect(store, settings)
    finally:
        store.close()
    log_dir = settings.resolved_spool_dir
    data["ingest"]["log"] = read_status(log_dir, settings.spool_max_bytes) if settings.spool_max_bytes > 0 else None
    data["ingest"]["dead_letter_spans"] = sum(1 for _ in dead_letter.entries(log_dir))
    return data


def status_command(settings: Settings, as_json: bool) -> None:
    owner = DataDirLock(settings.resolved_data_dir).owner() if settings.embedded else None
    try:
        if owner and owner.get("url"):
            data = _from_server(owner["url"], settings)
            data["server"] = owner["url"]
            data["clickhouse_http"] = owner.get("clickhouse_http") or None  # the server's ClickHouse endpoint
        else:
            data = local_status(settings)
    except (StoreError, urllib.error.URLError, OSError) as exc:
        raise click.ClickException(str(getattr(exc, "reason", exc))) from None
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        if data.get("server"):
            click.echo(f"server:     {data['server']} (pid {owner.get('pid')})")
        if data.get("clickhouse_http"):
            click.echo(f"clickhouse: {data['clickhouse_http']} (ClickHouse HTTP interface, read-only)")
        click.echo(format_status(data), nl=False)
