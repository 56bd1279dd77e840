"""Compare (issue 18): two attempts of one execution, or two executions of one agent or automation, as a
server-side JSON diff: steps aligned by name and position, status / duration / tokens changes, input and
output diffs, the first divergence."""

from __future__ import annotations

import pytest

from execlog_otel.viewer import compare
from execlog_otel.viewer.app import create_app
from viewer_support import SpanWriter, populate


def test_json_diff_names_each_changed_path():
    a = {"order": 1, "items": [{"sku": "A", "qty": 1}], "note": "x"}
    b = {"order": 1, "items": [{"sku": "A", "qty": 2}, {"sku": "B"}], "extra": True}
    assert compare.json_diff(a, b) == [
        {"path": "$.items[0].qty", "change": "changed", "a": 1, "b": 2},
        {"path": "$.items[1]", "change": "added", "a": None, "b": {"sku": "B"}},
        {"path": "$.note", "change": "removed", "a": "x", "b": None},
        {"path": "$.extra", "change": "added", "a": None, "b": True},
    ]
    assert compare.json_diff({"n": 1}, {"n": 1.0}) == [{"path": "$.n", "change": "changed", "a": 1, "b": 1.0}]
    assert compare.json_diff([1, 2], [1, 2]) == []
    # Equal payloads are skipped in one comparison, but only when equal types and all: 1 is not true nor 1.0.
    assert compare.json_diff({"a": [{"n": 1}]}, {"a": [{"n": True}]}) == [
        {"path": "$.a[0].n", "change": "changed", "a": 1, "b": True}]
    assert compare.json_diff({"a": [1.0]}, {"a": [1]}) == [{"path": "$.a[0]", "change": "changed", "a": 1.0, "b": 1}]
    big = 2**70
    assert compare.json_diff({"n": big}, {"n": big}) == []


def _step(name, status="Success", duration=1.0, tokens=0, output=None):
    return {"span_id": name, "name": name, "depth": 0, "status": status, "duration_ms": duration,
            "total_tokens": tokens, "error": "", "input": None, "output": {"value": output} if output else None}


def test_steps_align_by_name_and_position_and_the_first_divergence_is_found():
    a = [_step("fetch"), _step("call", "Failed", 5.0, 10), _step("notify")]
    b = [_step("fetch"), _step("retry-wait"), _step("call", "Success", 3.0, 14, {"ok": True}), _step("notify")]
    rows = compare.align(a, b)
    assert [(r["name"], r["a"] is not None, r["b"] is not None) for r in rows] == [
        ("fetch", True, True), ("retry-wait", False, True), ("call", True, True), ("notify", True, True)]
    call = rows[2]
    assert call["status_changed"] and call["duration_ms_change"] == -2.0 and call["tokens_change"] == 4
    assert not rows[0]["differs"] and rows[1]["differs"] and not rows[3]["differs"]
    # The same steps in the same order (the usual retry) pair one to one.
    same = compare.align(a, [_step("fetch"), _step("call", "Success"), _step("notify", output={"n": 1})])
    assert [(r["name"], r["differs"]) for r in same] == [("fetch", False), ("call", True), ("notify", True)]


@pytest.fixture
def client_and_data(store, settings):
    writer = SpanWriter(store)
    data = populate(writer)
    yield create_app(settings, store, receiver=False).test_client(), data
    writer.close()


def test_compare_two_attempts_as_json(client_and_data):
    client, data = client_and_data
    resp = client.get(f"/api/compare?a={data.billing}&a_attempt=1&b={data.billing}&b_attempt=2")
    assert resp.status_code == 200, resp.get_json()
    diff = resp.get_json()
    assert (diff["a"]["attempt"], diff["b"]["attempt"]) == (1, 2)
    assert (diff["a"]["status"], diff["b"]["status"]) == ("Failed", "Success") and diff["status_changed"]
    first = diff["steps"][diff["first_divergence"]]
    assert first["differs"] and first["a"] is not None
    assert diff["changed_steps"] >= 1


def test_two_attempts_of_one_execution_read_it_once(client_and_data, monkeypatch):
    """Compare of two attempts reads the execution (its row, rollups, attempts and costs) once, then each
    attempt's spans; the answer is the same as two separate reads would give."""
    from execlog_otel.store.repository import Repository

    client, data = client_and_data
    url = f"/api/compare?a={data.billing}&a_attempt=1&b={data.billing}&b_attempt=2"
    before = client.get(url).get_json()
    reads: list[str] = []

    def counting(original):
        def read(self, name, params, **fragments):
            reads.append(name)
            return original(self, name, params, **fragments)
        return read

    # Every named read: those the caller waits for, and those started on another client meanwhile.
    monkeypatch.setattr(Repository, "_rows", counting(Repository._rows))
    monkeypatch.setattr(Repository, "_submit", counting(Repository._submit))
    assert client.get(url).get_json() == before
    assert reads.count("execution_by_id") == 1 and reads.count("attempts") == 1
    assert reads.count("trace_spans") == 2


def test_compare_refuses_what_it_cannot_compare(client_and_data):
    client, data = client_and_data
    for url, status, text in ((f"/api/compare?a={data.billing}", 400, "b: missing"),
                              (f"/api/compare?a={data.billing}&b={data.order_sync}", 400, "same agent or automation"),
                              (f"/api/compare?a={data.billing}&b={'0' * 32}", 404, "no execution"),
                              (f"/api/compare?a={data.billing}&a_attempt=x&b={data.billing}", 400, "a_attempt")):
        resp = client.get(url)
        assert resp.status_code == status and text in resp.get_json()["error"], (url, resp.get_json())
    page = client.get(f"/compare?a={data.billing}&b={data.billing}")
    assert page.status_code == 200 and 'id="compare-rows"' in page.get_data(as_text=True)


def test_compare_shows_each_runs_and_each_steps_cost_with_the_change(client_and_data, store):
    """Cost, once it exists: each run's cost (its attempt's), each step's, and the change b minus a."""
    import time

    from benchmarks import big_execution

    client, _ = client_and_data
    first_start = time.time_ns() - 2 * 3_600 * 10**9
    first = big_execution.generate(store, 60, "a7" * 16, first_start, name="priced-agent")
    big_execution.generate(store, 60, "b8" * 16, time.time_ns() - 3_600 * 10**9, name="priced-agent",
                           retry_of=first.execution_id, attempt=2, variant=7, execution_start_ns=first_start)
    resp = client.get(f"/api/compare?a={first.execution_id}&a_attempt=1&b={first.execution_id}&b_attempt=2")
    assert resp.status_code == 200, resp.get_json()
    diff = resp.get_json()
    detail = client.get(f"/api/executions/{first.execution_id}?attempt=1").get_json()
    assert diff["a"]["cost_usd"] == detail["attempt_cost"]["usd"] and diff["a"]["cost_usd"] > 0
    assert diff["cost_usd_change"] == pytest.approx(diff["b"]["cost_usd"] - diff["a"]["cost_usd"])
    llm = [r for r in diff["steps"] if r["name"].startswith("chat ")]
    assert llm and all(r["a"]["cost_usd"] > 0 and r["b"]["cost_usd"] > 0 for r in llm)
    assert all(r["cost_usd_change"] == pytest.approx(r["b"]["cost_usd"] - r["a"]["cost_usd"]) for r in llm)
    tools = [r for r in diff["steps"] if r["name"].startswith("execute_tool")]
    assert tools and all(r["a"]["cost_usd"] is None and r["cost_usd_change"] is None for r in tools)
