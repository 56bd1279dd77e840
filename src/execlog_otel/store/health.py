"""The store's health, from ClickHouse's own system tables: active parts per table and partition, merges and
mutations in progress, disk used and free, the oldest partition (is the TTL dropping old days?), and
warnings past thresholds. ``execlog status`` and ``GET /api/status`` show it.

On a sharded cluster these are the figures of the node that answered (its local tables are in another
database: see docs/operations.md for what to monitor on every node).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from execlog_otel.store.store import SPAN_TABLE, Store

# Warn when a partition has this share of ClickHouse's parts_to_delay_insert (inserts slow down there,
# and fail at parts_to_throw_insert): merges are not keeping up with inserts.
PARTS_WARN_SHARE = 0.3
DEFAULT_PARTS_TO_DELAY_INSERT = 1000
DISK_WARN_SHARE = 0.8
# Days past the retention a partition may linger (TTL drops whole parts, after their last row expired).
TTL_SLACK_DAYS = 2

_SETTINGS = {"max_execution_time": 5}


def _rows(store: Store, sql: str, **params: Any) -> list[tuple]:
    return store.pool.query(sql, parameters={"db": store.database, **params}, settings=_SETTINGS).result_rows


def parts(store: Store) -> dict[str, dict[str, Any]]:
    """Per table: active parts, rows and bytes, each partition's parts, the oldest and newest day."""
    rows = _rows(store, "SELECT table, partition, count(), sum(rows), sum(bytes_on_disk), min(min_date), "
                       "min(toDate(min_time)) FROM system.parts WHERE database = {db:String} AND active "
                       "GROUP BY table, partition ORDER BY table, partition")
    out: dict[str, dict[str, Any]] = {}
    for table, partition, n, n_rows, n_bytes, min_date, min_time_date in rows:
        t = out.setdefault(table, {"parts": 0, "rows": 0, "bytes_on_disk": 0, "partitions": [],
                                   "oldest_day": None})
        t["parts"] += int(n)
        t["rows"] += int(n_rows)
        t["bytes_on_disk"] += int(n_bytes)
        t["partitions"].append({"partition": str(partition), "parts": int(n)})
        day = _day(min_date) or _day(min_time_date)
        if day and (t["oldest_day"] is None or day < t["oldest_day"]):
            t["oldest_day"] = day
    for t in out.values():
        t["max_parts_in_partition"] = max((p["parts"] for p in t["partitions"]), default=0)
    return out


def _day(value: Any) -> str | None:
    """A date from system.parts, or None where it is unset (1970-01-01: the partition key is not a date)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date) and value.year > 1970:
        return value.isoformat()
    return None


def merges(store: Store) -> dict[str, Any]:
    rows = _rows(store, "SELECT table, count(), max(elapsed) FROM system.merges WHERE database = {db:String} "
                       "GROUP BY table ORDER BY table")
    mutations = _rows(store, "SELECT count() FROM system.mutations WHERE database = {db:String} AND NOT is_done")
    return {"in_progress": sum(int(r[1]) for r in rows),
            "by_table": {r[0]: {"merges": int(r[1]), "longest_s": round(float(r[2]), 1)} for r in rows},
            "mutations_in_progress": int(mutations[0][0]) if mutations else 0}


def disks(store: Store) -> list[dict[str, Any]]:
    rows = _rows(store, "SELECT name, path, free_space, total_space FROM system.disks ORDER BY name")
    out = []
    for name, path, free, total in rows:
        total, free = int(total), int(free)
        out.append({"name": name, "path": path, "free_bytes": free, "total_bytes": total,
                    "used_bytes": total - free, "used_share": round((total - free) / total, 4) if total else None})
    return out


def parts_to_delay_insert(store: Store) -> int:
    rows = _rows(store, "SELECT value FROM system.merge_tree_settings WHERE name = 'parts_to_delay_insert'")
    try:
        return int(rows[0][0]) if rows else DEFAULT_PARTS_TO_DELAY_INSERT
    except (TypeError, ValueError):
        return DEFAULT_PARTS_TO_DELAY_INSERT


def report(store: Store, retention_days: int, *, parts_warn: int | None = None,
           disk_warn_share: float = DISK_WARN_SHARE, today: dt.date | None = None) -> dict[str, Any]:
    """The health figures and their warnings (``parts_warn``: parts in one partition that warn; default a
    share of the server's parts_to_delay_insert)."""
    delay = parts_to_delay_insert(store)
    parts_warn = parts_warn if parts_warn is not None else max(1, int(delay * PARTS_WARN_SHARE))
    tables = parts(store)
    out: dict[str, Any] = {"tables": tables, "merges": merges(store), "disks": disks(store),
                           "parts_to_delay_insert": delay, "thresholds": {"parts_per_partition": parts_warn,
                                                                          "disk_used_share": disk_warn_share}}
    store_bytes = sum(t["bytes_on_disk"] for t in tables.values())
    out["bytes_on_disk"] = store_bytes
    # The span table's oldest day (partitioned by day; the trace-id lookup's weeks start earlier by design).
    oldest = tables.get(SPAN_TABLE, {}).get("oldest_day")
    today = today or dt.datetime.now(dt.UTC).date()
    out["oldest_partition"] = {"day": oldest,
                               "age_days": (today - dt.date.fromisoformat(oldest)).days if oldest else None}
    warnings = []
    for name, t in tables.items():
        if t["max_parts_in_partition"] >= parts_warn:
            worst = max(t["partitions"], key=lambda p: p["parts"])
            warnings.append(f"too many parts: {name} partition {worst['partition']} has {worst['parts']} active "
                            f"parts (warning from {parts_warn}; inserts slow down at {delay}): merges are not "
                            "keeping up — insert fewer, larger batches")
    for d in out["disks"]:
        if d["used_share"] is not None and d["used_share"] > disk_warn_share:
            warnings.append(f"disk {d['name']} ({d['path']}) is {d['used_share']:.0%} full "
                            f"(warning over {disk_warn_share:.0%}): {d['free_bytes'] / 2**30:.1f} GiB free")
    age = out["oldest_partition"]["age_days"]
    if age is not None and age > retention_days + TTL_SLACK_DAYS:
        warnings.append(f"oldest partition {oldest} is {age} days old, past the {retention_days}-day retention: "
                        "the TTL is not dropping old parts (merges stalled, or ttl_only_drop_parts waiting)")
    out["warnings"] = warnings
    return out
