"""The store's health in ``execlog status`` and ``/api/status``: its figures are system.parts' own for the
test store, and each threshold warns."""

from __future__ import annotations

import datetime as dt

from execlog_otel import status
from execlog_otel.store import health


def _insert_days(store, days: list[int], spans_per_day: int = 50) -> None:
    # One insert per day (one part each), a second for the newest day (two parts in its partition).
    for d in [*days, days[0]]:
        store.pool.command(
            f"INSERT INTO {store.table('otel_traces')} (Timestamp, TraceId, SpanId, SpanName, ServiceName) "
            "SELECT now64(9) - toIntervalDay({d:UInt32}) - toIntervalSecond(number), "
            "lower(hex(cityHash64(number, {d:UInt32}, rand()))) || '0000000000000000', "
            "lower(hex(cityHash64(number, 1))), 'health', 'health-tests' FROM numbers({n:UInt32})",
            parameters={"d": d, "n": spans_per_day})


def test_health_figures_are_those_of_system_parts(store):
    _insert_days(store, [0, 3, 6])
    report = health.report(store, 30, disk_warn_share=1.0)  # this machine's disk use is not the point here
    expected = store.pool.query(
        "SELECT table, partition, count() FROM system.parts WHERE database = {db:String} AND active "
        "GROUP BY table, partition", parameters={"db": store.database}).result_rows
    got = {(name, p["partition"]): p["parts"] for name, t in report["tables"].items() for p in t["partitions"]}
    assert got == {(t, p): n for t, p, n in expected}
    spans = report["tables"]["otel_traces"]
    assert len(spans["partitions"]) == 3 and spans["max_parts_in_partition"] >= 2
    assert spans["rows"] == 200
    oldest = store.pool.query(f"SELECT min(toDate(Timestamp)) FROM {store.table('otel_traces')}").result_rows[0][0]
    assert report["oldest_partition"]["day"] == oldest.isoformat()
    assert report["bytes_on_disk"] == store.pool.query(
        "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {db:String} AND active",
        parameters={"db": store.database}).result_rows[0][0]
    assert report["disks"] and all(d["total_bytes"] >= d["free_bytes"] > 0 for d in report["disks"])
    assert report["merges"]["in_progress"] >= 0 and report["warnings"] == []


def test_each_threshold_warns(store):
    _insert_days(store, [0, 1])
    report = health.report(store, 30, parts_warn=2, disk_warn_share=0.0,
                           today=dt.date.today() + dt.timedelta(days=60))
    text = "\n".join(report["warnings"])
    assert "too many parts: otel_traces partition" in text
    assert "full (warning over 0%)" in text
    assert "past the 30-day retention" in text


def test_status_api_and_text_show_the_health(store, settings, client):
    _insert_days(store, [0, 2])
    data = client.get("/api/status").get_json()
    h = data["store"]["health"]
    assert h["tables"]["otel_traces"]["parts"] >= 3
    text = status.format_status(data)
    assert "parts:" in text and "merges:" in text and "disk:" in text and "oldest:" in text
