"""EXECLOG_READ_URL: the viewer reads from another ClickHouse (a replica, a read-only user) than the one
ingest writes to. Here the read side is a store opened from the read URL over the database holding the
data, the write side an empty store: the listing shows what the read side holds."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import new_store

from execlog_otel.viewer.app import create_app
from viewer_support import SECOND, SpanWriter, now_ns


def test_the_viewer_reads_from_the_read_url_while_writes_go_to_the_store(store, settings, chdb_url, ch_client):
    writer = SpanWriter(store)
    eid, _ = writer.execution("read-from-replica", start_ns=now_ns() - 5 * SECOND)
    writer.close()
    write_side = new_store(ch_client)  # empty: where ingest would write
    try:
        # The read side: its own URL and store (the test engine's, over the database holding the data).
        app = create_app(replace(settings, read_url=chdb_url, database=store.database), write_side, receiver=False)
        client = app.test_client()
        ids = [it["id"] for it in client.get("/api/executions").get_json()["items"]]
        assert ids == [eid]
        assert client.get(f"/api/executions/{eid}").status_code == 200
        # the write side is the store given: the receiver's sink, migrations, retries
        assert app.extensions["execlog"].store is write_side
        plain = create_app(replace(settings, database=write_side.database), write_side, receiver=False)
        assert plain.test_client().get("/api/executions").get_json()["items"] == []
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {write_side.database} SYNC")
