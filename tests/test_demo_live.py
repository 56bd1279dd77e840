"""The demo's open executions (Running, Paused, Queued, Pending) stay in their state for as long as the
demo process runs: however much time passes, a reader who looks around first still finds them live.

Time passing is simulated, not waited for: the demo's release event is replaced by one whose every
bounded wait has already timed out (any finite timeout is reached at once), while an unbounded wait
blocks as it would. A demo that ended its open runs after a timeout shows them as Success here.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

from tests.conftest import new_store

from execlog_otel import demo
from execlog_otel import server as server_mod
from execlog_otel.config import Settings

OPEN = {"migrate-customers": "Running", "approve-refund": "Paused", "throttled-sync": "Queued",
        "webhook-intake": "Pending"}


class _TimeAlwaysRunsOut(threading.Event):
    """An event on which every bounded wait has already timed out: hours pass in no time."""

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            return False
        return super().wait()


def test_open_demo_executions_stay_live_however_long_one_reads(ch_client, chdb_url, monkeypatch):
    monkeypatch.setattr(demo, "_release", _TimeAlwaysRunsOut())
    store = new_store(ch_client)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    running = server_mod.start(settings, store=store).start_background()
    try:
        sent = demo.feed(running.url)
        statuses: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(f"{running.url}/api/executions?limit=200", timeout=10) as r:
                items = json.load(r)["items"]
            statuses = {i["name"]: i["status"] for i in items if i["name"] in OPEN}
            if len(items) >= sent and len(statuses) == len(OPEN) and statuses == OPEN:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert statuses == OPEN
    finally:
        demo.stop()
        running.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
