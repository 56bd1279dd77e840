"""The listing's search is served by the search index of execlog_executions (migration 024): the query the
listing runs reads only the granules the index keeps, and the search text's LIKE wildcards match themselves."""

from __future__ import annotations

import re

import pytest
from benchmarks.dataset import generate

from execlog_otel.store import sqlfiles
from execlog_otel.store.filters import ListFilter, conditions
from execlog_otel.store.repository import _where


def _granules(explain: str, index: str) -> tuple[int, int]:
    """(kept, total) granules of ``index`` in an ``EXPLAIN indexes = 1`` text."""
    lines = explain.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"Name: {index}":
            for following in lines[i + 1:i + 6]:
                m = re.search(r"Granules: (\d+)/(\d+)", following)
                if m:
                    return int(m.group(1)), int(m.group(2))
    raise AssertionError(f"index {index} not used:\n{explain}")


@pytest.mark.slow
def test_the_listing_search_skips_granules_through_the_search_index(store, client):
    made = generate(store, 40_000, chunk_executions=40_000, log=lambda *_: None)
    store.pool.command(f"OPTIMIZE TABLE {store.table('execlog_executions')} FINAL")
    execution_id, request_id, record_id = store.pool.query(
        f"SELECT ExecutionId, RequestId, TargetRecordId FROM {store.table('execlog_executions')} "
        "WHERE RequestId != '' AND TargetRecordId != '' ORDER BY ExecutionId LIMIT 1").result_rows[0]
    for text in (request_id.upper(), request_id[4:14], record_id):
        params: dict[str, object] = {}
        where = conditions(ListFilter(q=text), params)
        sql = sqlfiles.statement("read/execution_matches", database=store.database, where=_where(where),
                                 max_matches_plus_one=1001)
        explain = "\n".join(r[0] for r in store.pool.query(f"EXPLAIN indexes = 1 {sql}", parameters=params).result_rows)
        kept, total = _granules(explain, "idx_search")
        assert total >= 4 and kept < total, (text, kept, total)
        # ... and the listing answers the execution searched for.
        page = client.get("/api/executions", query_string={"q": text}).get_json()
        assert execution_id in [it["id"] for it in page["items"]], text
    assert made.executions == 40_000


def test_search_wildcards_match_themselves(store, client):
    generate(store, 300, log=lambda *_: None)
    for text in ("%", "_", "\\", "a%b"):
        page = client.get("/api/executions", query_string={"q": text}).get_json()
        assert page["count"] == 0, text
    assert client.get("/api/executions", query_string={"q": "REPORT"}).get_json()["count"] > 0


def test_a_page_reads_only_the_rollup_granules_that_hold_its_traces(store, client):
    """A page's facts (read/page_facts.sql) name 50 random trace ids: the trace-id bloom filter of the rollups
    (migration 038) leaves out the day partitions after the page's own that hold none of them."""
    from execlog_otel.store.repository import NO_END_NS, Repository

    generate(store, 3_000, log=lambda *_: None)
    executions = store.table("execlog_executions")
    oldest = store.pool.query(f"SELECT toUnixTimestamp64Nano(min(Start)) FROM {executions}").result_rows[0][0]
    rows = store.pool.query(
        f"SELECT TraceId, toUnixTimestamp64Nano(Start) FROM {executions} "
        "WHERE Start < fromUnixTimestamp64Nano({t:Int64}) + INTERVAL 1 DAY ORDER BY Start LIMIT 50",
        parameters={"t": oldest}).result_rows
    params = {"traces": [r[0] for r in rows], "since": min(r[1] for r in rows)}
    # Without an upper bound (a page with a running execution): every day partition from the page's own on is
    # in range, and the bloom filter alone leaves out those that hold none of its traces.
    params["until"] = NO_END_NS
    sql = Repository(store)._sql("page_facts")
    explain = "\n".join(r[0] for r in store.pool.query(f"EXPLAIN indexes = 1 {sql}", parameters=params).result_rows)
    kept, total = _granules(explain, "idx_trace_id")
    assert total >= 30 and kept <= total // 10, (kept, total)  # the page's day (and the next): 2 of 31 days
    # ... and the listing of that day shows those executions' steps.
    page = client.get("/api/executions", query_string={"from": oldest // 10**6, "to": oldest // 10**6 + 86_400_000,
                                                       "sort": "started_at", "order": "asc"}).get_json()
    assert page["items"] and all(it["steps"] > 0 for it in page["items"])
