"""Big executions through the API: the detail answers the first page of steps, /steps pages the rest by
position or by subtree (bounded per request, no cap on the number of steps), /steps/overview says where
the failed and slowest steps are, and /steps/search answers the positions of matching steps. The
execution is generated inside ClickHouse (``benchmarks.big_execution``) in the test's own database."""

from __future__ import annotations

import time

import pytest
from benchmarks import big_execution

from execlog_otel.store.repository import MAX_STEPS
from execlog_otel.store.step_pages import MAX_MATCHES, MAX_PAGE_STEPS

STEPS = 12_000  # above MAX_STEPS (5,000), so the detail pages; small enough to make in a second


@pytest.fixture
def big(store):
    return big_execution.generate(store, STEPS, "c3" * 16, time.time_ns() - 3_600 * 10**9)


@pytest.fixture(autouse=True)
def _kept_writes_done(client):
    """The background write of a big attempt's steps (execlog_step_pages) ends before its database goes."""
    yield
    client.application.extensions["execlog"].reads.pages.wait_kept()


def _get(client, url: str, status: int = 200) -> dict:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.get_json())
    return resp.get_json()


def test_the_detail_of_a_big_execution_is_its_header_and_first_page(client, big):
    item = _get(client, f"/api/executions/{big.execution_id}")
    assert item["steps_paged"] is True and item["steps_truncated"] is False
    assert item["steps_total"] == STEPS
    steps = item["steps"]
    assert len(steps) == 200
    # Depth-first: batch 0 (depth 0, 999 steps under it), its first item (depth 1, 49 under it), a leaf.
    assert [(s["position"], s["depth"], s["descendants"]) for s in steps[:3]] == [(0, 0, 999), (1, 1, 49), (2, 2, 0)]
    assert [s["position"] for s in steps] == list(range(200))
    assert steps[2]["input"]["value"]["record"] == 3 and steps[2]["output"]["value"]["ok"] is True


def test_pages_by_offset_reach_the_last_step_and_stay_bounded(client, big):
    last = _get(client, f"/api/executions/{big.execution_id}/steps?offset={STEPS - 150}&limit=200")
    assert last["total"] == STEPS and last["offset"] == STEPS - 150
    assert [s["position"] for s in last["items"]] == list(range(STEPS - 150, STEPS))
    assert last["items"][-1]["input"]["value"]["record"] == STEPS
    assert _get(client, f"/api/executions/{big.execution_id}/steps?offset={STEPS}")["items"] == []
    # Bounded per request: more than MAX_PAGE_STEPS is refused with the bound.
    err = _get(client, f"/api/executions/{big.execution_id}/steps?limit={MAX_PAGE_STEPS + 1}", 400)
    assert str(MAX_PAGE_STEPS) in err["error"]
    assert "offset" in _get(client, f"/api/executions/{big.execution_id}/steps?offset=-1", 400)["error"]


def test_a_subtree_is_paged_under_its_step(client, big):
    batch1 = _get(client, f"/api/executions/{big.execution_id}/steps?offset=1000&limit=1")["items"][0]
    assert batch1["name"] == "batch 1" and batch1["descendants"] == 999
    under = _get(client, f"/api/executions/{big.execution_id}/steps?parent={batch1['span_id']}&offset=50&limit=100")
    assert under["total"] == 999 and under["parent"]["span_id"] == batch1["span_id"]
    assert [s["position"] for s in under["items"]] == list(range(1051, 1151))
    assert all(s["depth"] >= 1 for s in under["items"])
    assert {s["parent_span_id"] for s in under["items"] if s["depth"] == 1} == {batch1["span_id"]}
    leaf = under["items"][1]
    assert _get(client, f"/api/executions/{big.execution_id}/steps?parent={leaf['span_id']}")["items"] == []
    assert "no such step" in _get(client, f"/api/executions/{big.execution_id}/steps?parent={'0' * 16}", 400)["error"]


def test_the_overview_places_every_failure_and_the_slowest_step(client, big):
    o = _get(client, f"/api/executions/{big.execution_id}/steps/overview")
    failed = big_execution.failed_steps(STEPS)
    assert o["total"] == STEPS and o["failed_total"] == len(failed) == big.failed
    assert [m["position"] for m in o["failed"]] == [i - 1 for i in failed]  # step i is at position i - 1
    assert all(m["status"] == "Failed" and "rejected" in m["error"] for m in o["failed"])
    assert o["slowest"][0]["position"] == big.slow_step - 1 and o["slowest"][0]["duration_ms"] == 40_000
    assert len(o["slowest"]) == 10 and sum(o["failed_buckets"]) == len(failed)


def test_search_answers_positions_in_order(client, big):
    one = _get(client, f"/api/executions/{big.execution_id}/steps/search?q=record%20number%2011999")
    assert one["positions"] == [11998] and not one["capped"]
    errors = _get(client, f"/api/executions/{big.execution_id}/steps/search?q=REJECTED")
    assert errors["positions"] == [i - 1 for i in big_execution.failed_steps(STEPS)]
    many = _get(client, f"/api/executions/{big.execution_id}/steps/search?q=record")
    assert many["capped"] is True and len(many["positions"]) == MAX_MATCHES
    assert many["positions"] == sorted(many["positions"])
    assert _get(client, f"/api/executions/{big.execution_id}/steps/search?q=")["positions"] == []
    assert _get(client, f"/api/executions/{big.execution_id}/steps/search?q=%27%3B%20DROP")["positions"] == []


def test_small_executions_answer_every_step_at_once(client, store):
    big_execution.generate(store, 300, "d4" * 16, time.time_ns() - 3_600 * 10**9)
    item = _get(client, f"/api/executions/{'d4' * 16}")
    assert item["steps_paged"] is False and item["steps_total"] == 300 and len(item["steps"]) == 300
    # Paging works for them too (the same positions as the full list).
    page = _get(client, f"/api/executions/{'d4' * 16}/steps?offset=100&limit=3")
    assert [s["span_id"] for s in page["items"]] == [s["span_id"] for s in item["steps"][100:103]]


def test_download_code_of_a_big_execution_says_what_it_left_out(client, big):
    resp = client.get(f"/executions/{big.execution_id}/code")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert f"the log holds {STEPS:,} steps; this file has the first {MAX_STEPS:,}" in text


def test_a_finished_big_execution_is_kept_in_tree_order_and_read_back(client, big, store):
    """After the first open, the steps of a finished big attempt are written once to execlog_step_pages;
    pages then read them from there, the same steps as from the spans, and another process (a new
    repository) reads the outline back instead of building it."""
    from execlog_otel.store.outline import OutlineCache
    from execlog_otel.store.repository import Repository

    reads = client.application.extensions["execlog"].reads
    first = _get(client, f"/api/executions/{big.execution_id}")
    reads.pages.wait_kept()
    rows = store.pool.query(f"SELECT count(), uniqExact(Position), min(Position), max(Position) "
                            f"FROM {store.database}.execlog_step_pages WHERE TraceId = {{t:String}}",
                            parameters={"t": big.execution_id}).result_rows
    assert rows == [(STEPS, STEPS, 0, STEPS - 1)]
    urls = [f"/api/executions/{big.execution_id}", f"/api/executions/{big.execution_id}/steps?offset=7777&limit=300",
            f"/api/executions/{big.execution_id}/steps/overview"]
    batch = _get(client, f"/api/executions/{big.execution_id}/steps?offset=3000&limit=1")["items"][0]
    urls.append(f"/api/executions/{big.execution_id}/steps?parent={batch['span_id']}&offset=10&limit=50")
    kept = [_get(client, u) for u in urls]
    assert kept[0]["steps"] == first["steps"]
    # The same answers when the steps are read from the spans.
    reads.pages.store_enabled, reads.pages.cache = False, OutlineCache()
    assert [_get(client, u) for u in urls] == kept
    # Another process: its outline is read back, complete and already kept, without writing it again.
    other = Repository(store)
    version = next(iter(reads.pages._kept))[1]
    o = other.pages.outline(big.execution_id, tuple(version.split("/")), finished=True)
    assert o.version == version and other.pages._is_kept(big.execution_id, o) and not other.pages._writing
    assert len(o) == STEPS and o.span_ids == reads.pages.outline(big.execution_id).span_ids
    page = other.pages.page(big.execution_id, o, 0, 7777, 300)
    assert [s.span_id for s in page.steps] == [s["span_id"] for s in kept[1]["items"]]


def test_shared_lru_keeps_the_most_recently_used_within_its_size_from_many_threads():
    """The outline and big-header caches: least recently used out, sized by each value when asked, a value
    larger than the cache not kept, and puts from many request threads at once never fail or overfill it."""
    import threading

    from execlog_otel.store.lru import SharedLRU

    heads: SharedLRU[str] = SharedLRU(3)
    for key in "abc":
        heads.put(key, key.upper())
    assert heads.get("a") == "A"  # a is now the most recent: b goes first
    heads.put("d", "D")
    assert [heads.get(k) for k in "abcd"] == ["A", None, "C", "D"]

    sized: SharedLRU[list[int]] = SharedLRU(10, getsizeof=len)
    sized.put("big", list(range(11)))
    sized.put("six", list(range(6)))
    sized.put("five", list(range(5)))  # 11 > 10: six (the least recent) goes
    assert ("big" in sized, "six" in sized, "five" in sized) == (False, False, True)

    shared: SharedLRU[int] = SharedLRU(16)
    errors: list[BaseException] = []

    def fill(n: int) -> None:
        try:
            for i in range(2_000):
                shared.put((n, i), i)
                shared.get((n, i - 1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(shared) == 16
    shared.clear()
    assert len(shared) == 0 and shared.get((0, 1_999)) is None
