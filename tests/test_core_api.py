"""GET /api/executions and /api/executions/<id>: filters, keyset pagination, live states, attempts."""

from __future__ import annotations

import time
import uuid

import pytest

from execlog_otel.store.rows import SpanColumns

T0 = time.time_ns() - 3600 * 10**9  # an hour ago


def add_execution(store, *, name: str, kind: str = "automation", status: str = "Success", start_ns: int,
                  duration_ms: int = 10, steps: int = 1, extra: dict | None = None, trace_id: str | None = None,
                  root: bool = True, marker_status: str | None = None) -> str:
    trace_id = trace_id or uuid.uuid4().hex
    root_id = uuid.uuid4().hex[:16]
    cols = SpanColumns()
    base = {"execlog.kind": kind, "execlog.execution.name": name, **(extra or {})}
    common = dict(trace_state="", kind="Internal", service_name="svc", resource={"service.name": "svc"},
                  scope_name="t", scope_version="", status_message="")
    if marker_status:
        cols.add(start_ns=start_ns + 1, end_ns=start_ns + 1, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
                 parent_span_id=root_id, name="execlog.state", status_code="Unset",
                 attributes={**base, "execlog.marker": "state", "execlog.status": marker_status,
                             "execlog.execution.start_time_unix_nano": str(start_ns),
                             "execlog.attempt.start_time_unix_nano": str(start_ns)}, **common)
    if root:
        cols.add(start_ns=start_ns, end_ns=start_ns + duration_ms * 10**6, trace_id=trace_id, span_id=root_id,
                 parent_span_id="", name=name, status_code="Error" if status == "Failed" else "Unset",
                 attributes={**base, "execlog.status": status}, **common)
    for i in range(steps):
        cols.add(start_ns=start_ns + i, end_ns=start_ns + i + 100, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
                 parent_span_id=root_id, name=f"step {i}", status_code="Unset", attributes={}, **common)
    store.insert_span_columns(cols.columns)
    return trace_id


def names(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return [i["name"] for i in resp.get_json()["items"]]


def test_keyset_pagination_walks_every_execution_once(client, store):
    for i in range(7):
        add_execution(store, name=f"run-{i}", start_ns=T0 + i * 10**9)
    seen, cursor = [], None
    while True:
        resp = client.get("/api/executions", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        page = resp.get_json()
        seen += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        assert page["count"] == 7
        if not cursor:
            break
    assert seen == [f"run-{i}" for i in reversed(range(7))]
    asc = names(client.get("/api/executions?order=asc&limit=2"))
    assert asc == ["run-0", "run-1"]


def test_filters_kind_status_name_time_and_sort_by_duration(client, store):
    add_execution(store, name="a1", kind="agent", status="Failed", start_ns=T0, duration_ms=50)
    add_execution(store, name="a2", kind="agent", status="Success", start_ns=T0 + 10**9, duration_ms=5)
    add_execution(store, name="w1", kind="automation", status="Partially Executed", start_ns=T0 + 2 * 10**9,
                  duration_ms=500)
    add_execution(store, name="old", kind="automation", start_ns=T0 - 3 * 86400 * 10**9)
    assert names(client.get("/api/executions?kind=agent")) == ["a2", "a1"]
    assert names(client.get("/api/executions?status=Failed,Partially%20Executed")) == ["w1", "a1"]
    assert names(client.get("/api/executions?status=partially_executed")) == ["w1"]
    assert names(client.get("/api/executions?name=a2")) == ["a2"]
    since = (T0 - 86400 * 10**9) // 10**6
    assert "old" not in names(client.get(f"/api/executions?from={since}"))
    assert names(client.get("/api/executions?sort=duration&kind=all"))[:2] == ["w1", "a1"]


def test_search_matches_ids_and_fields_literally(client, store):
    eid = add_execution(store, name="orders", start_ns=T0, extra={"execlog.request_id": "REQ-42",
                                                                  "execlog.target_record_id": "34",
                                                                  "execlog.target": "Part Inventory",
                                                                  "execlog.event": "UPDATE"})
    add_execution(store, name="100% done' OR 1=1 --", start_ns=T0 + 1)
    for q in (eid, "req-42", "34", "part inv", "update", "ORDERS"):
        assert names(client.get("/api/executions", query_string={"q": q})) == ["orders"], q
    assert names(client.get("/api/executions", query_string={"q": "' OR 1=1 --"})) == ["100% done' OR 1=1 --"]
    assert names(client.get("/api/executions", query_string={"q": "%"})) == ["100% done' OR 1=1 --"]
    assert names(client.get("/api/executions", query_string={"q": "_"})) == []


def test_live_marker_shows_running_until_the_root_arrives(client, store):
    tid = add_execution(store, name="long", start_ns=T0, root=False, marker_status="Running", steps=2)
    item = client.get("/api/executions").get_json()["items"][0]
    assert (item["name"], item["status"], item["live"], item["ended_at"], item["steps"]) == (
        "long", "Running", True, None, 2)
    assert item["duration_ms"] > 0
    detail = client.get(f"/api/executions/{tid}").get_json()
    assert detail["status"] == "Running" and len(detail["steps"]) == 2
    add_execution(store, name="long", status="Success", start_ns=T0, trace_id=tid, steps=0, duration_ms=7)
    item = client.get("/api/executions").get_json()["items"][0]
    assert (item["status"], item["live"], item["duration_ms"]) == ("Success", False, 7.0)


def test_retry_attempts_are_one_execution_with_the_latest_status(client, store):
    first = add_execution(store, name="sync", status="Failed", start_ns=T0)
    add_execution(store, name="sync", status="Success", start_ns=T0 + 5 * 10**9, extra={
        "execlog.retry_of": first, "execlog.attempt": "2", "execlog.execution.start_time_unix_nano": str(T0)})
    items = client.get("/api/executions").get_json()["items"]
    assert [(i["id"], i["status"], i["attempt"]) for i in items] == [(first, "Success", 2)]
    detail = client.get(f"/api/executions/{first}").get_json()
    assert [(a["attempt"], a["status"]) for a in detail["attempts"]] == [(1, "Failed"), (2, "Success")]
    older = client.get(f"/api/executions/{first}?attempt=1").get_json()
    assert (older["status"], older["shown_attempt"], older["trace_id"]) == ("Failed", 1, first)


@pytest.mark.parametrize("query,message", [
    ("kind=robot", "kind='robot'"),
    ("status=Exploded", "status='Exploded'"),
    ("limit=0", "between 1 and 200"),
    ("limit=x", "whole number"),
    ("from=yesterday", "ISO-8601"),
    ("cursor=%%%", "not a cursor"),
    ("sort=name", "started_at, duration or cost"),
    ("from=2026-01-02&to=2026-01-01", "from is later than to"),
    ("from=1&to=0", "from is later than to"),  # epoch milliseconds: 0 is a time, not "no bound"
    # Past DateTime64's nanoseconds a bound wrapped in Int64 and the filter inverted (every row, or none).
    ("from=2300-01-01&to=1000-01-01", "from 1970-01-01 to 2262-04-11"),
    ("to=2300-01-01", "from 1970-01-01 to 2262-04-11"),
    ("to=9999999999999999", "from 1970-01-01 to 2262-04-11"),
    ("cursor=W3RydWUsICJhYmMiXQ", "not a cursor"),  # [true, "abc"]: a bool is no position (it was a 500)
])
def test_bad_filters_get_400_with_a_message(client, query, message):
    resp = client.get(f"/api/executions?{query}")
    assert resp.status_code == 400
    assert message in resp.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/executions/{id}?attempt=²", "/api/executions/{id}/steps?offset=²",
                                  "/api/executions/{id}/steps?limit=²", "/api/compare?a={id}&b={id}&a_attempt=²"])
def test_digits_that_are_no_number_get_400(client, store, path):
    """"²".isdigit() is True and int("²") raises: such a parameter was a 500."""
    eid = add_execution(store, name="sup", status="Success", start_ns=T0)
    resp = client.get(path.format(id=eid))
    assert resp.status_code == 400, resp.data


def test_unknown_and_malformed_execution_ids(client):
    assert client.get(f"/api/executions/{'0' * 32}").status_code == 404
    resp = client.get("/api/executions/not-an-id")
    assert resp.status_code == 400 and "32 hexadecimal" in resp.get_json()["error"]


def _client_span(cols, trace_id, parent, start_ns, kind, attrs):
    cols.add(start_ns=start_ns, end_ns=start_ns + 100, trace_id=trace_id, span_id=uuid.uuid4().hex[:16],
             parent_span_id=parent, trace_state="", name="call", kind=kind, service_name="svc",
             resource={"service.name": "svc"}, scope_name="other.instrumentation", scope_version="",
             attributes=attrs, status_code="Unset", status_message="")


def test_connectors_come_from_other_instrumentations_client_spans(client, store):
    """No execlog code: database, HTTP and messaging client spans name the connectors; model calls do not."""
    tid, root = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    cols = SpanColumns()
    cols.add(start_ns=T0, end_ns=T0 + 10**6, trace_id=tid, span_id=root, parent_span_id="", trace_state="",
             name="celery.run/import_orders", kind="Consumer", service_name="svc", resource={"service.name": "svc"},
             scope_name="t", scope_version="", attributes={"execlog.kind": "automation"}, status_code="Unset",
             status_message="")
    _client_span(cols, tid, root, T0 + 1, "Client", {"db.system.name": "postgresql", "server.address": "db"})
    _client_span(cols, tid, root, T0 + 2, "Client", {"http.request.method": "POST", "server.address": "api.stripe.com"})
    _client_span(cols, tid, root, T0 + 3, "Producer", {"messaging.system": "kafka"})
    _client_span(cols, tid, root, T0 + 4, "Client", {"gen_ai.operation.name": "chat",
                                                     "server.address": "api.openai.com"})
    _client_span(cols, tid, root, T0 + 5, "Internal", {"server.address": "not-a-call"})
    store.insert_span_columns(cols.columns)
    item = client.get("/api/executions").get_json()["items"][0]
    assert item["connectors"] == ["api.stripe.com", "kafka", "postgresql"]
    steps = client.get(f"/api/executions/{tid}").get_json()["steps"]
    assert [s["connector"] for s in steps] == ["postgresql", "api.stripe.com", "kafka", "", ""]
