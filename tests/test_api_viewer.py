"""The viewer's JSON API beyond the core listing: names, info, live polling by id, neighbours,
Quick View summaries, attempts in the listing, and the OpenAPI document covering every route."""

from __future__ import annotations

import re

import pytest
import yaml

from execlog_otel.viewer.app import create_app
from viewer_support import XSS_NAME, SpanWriter, finish_watcher, populate


@pytest.fixture
def data_env(store, settings):
    writer = SpanWriter(store)
    data = populate(writer)
    app = create_app(settings, store, receiver=False)
    yield app.test_client(), data, writer, app
    writer.close()


def listing(client, **params):
    r = client.get("/api/executions", query_string=params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_names_per_kind_with_counts(data_env):
    client, data, _, _ = data_env
    agents = client.get("/api/names?kind=agent").get_json()["items"]
    assert [(n["name"], n["executions"]) for n in agents] == [("billing-agent", 1), ("summarizer", 1)]
    assert all(n["kind"] == "agent" for n in agents)
    automations = {n["name"] for n in client.get("/api/names?kind=automation").get_json()["items"]}
    assert automations == {"order-sync", "archive-job", "watcher", XSS_NAME, "throttled-import", "waiting-job",
                           "approval-flow"}
    everything = client.get("/api/names?kind=all").get_json()["items"]
    assert len(everything) == 9
    bad = client.get("/api/names?kind=robots")
    assert bad.status_code == 400 and "kind" in bad.get_json()["error"]


def test_info_lists_statuses_and_limits(data_env):
    client, *_ = data_env
    info = client.get("/api/info").get_json()
    assert info["statuses"] == ["Success", "Failed", "Partially Executed", "Running", "Queued", "Pending", "Paused",
                                "Rejected"]
    assert set(info["live_statuses"]) == {"Running", "Queued", "Pending", "Paused"}
    assert info["count_cap"] == 10_000 and info["receiver"] is False and info["retention_days"] == 30


def test_live_rows_are_polled_by_id_and_change_in_place(data_env):
    client, data, writer, _ = data_env
    before = client.get(f"/api/executions?ids={data.watcher},{data.order_sync}").get_json()["items"]
    assert [(i["id"], i["status"], i["live"]) for i in before] == [(data.watcher, "Running", True),
                                                                  (data.order_sync, "Failed", False)]
    finish_watcher(writer, data)
    after = client.get(f"/api/executions?ids={data.watcher}").get_json()["items"]
    assert after[0]["status"] == "Success" and after[0]["live"] is False and after[0]["ended_at"]


@pytest.mark.parametrize("ids, message", [("zz", "not an execution id"), (",".join(["a" * 32] * 201), "at most")])
def test_polling_rejects_bad_ids(data_env, ids, message):
    client, *_ = data_env
    r = client.get("/api/executions", query_string={"ids": ids if "," not in ids else
                                                     ",".join(f"{i:032x}" for i in range(201))})
    assert r.status_code == 400 and message in r.get_json()["error"]


@pytest.mark.parametrize("params", [{}, {"kind": "automation"}, {"sort": "duration"},
                                    {"sort": "duration", "order": "asc"}, {"order": "asc", "status": "Failed,Success"}])
def test_neighbors_follow_the_listing_order(data_env, params):
    client, *_ = data_env
    ids = [i["id"] for i in listing(client, limit=200, **params)["items"]]
    assert len(ids) >= 2
    for index, eid in enumerate(ids):
        n = client.get(f"/api/executions/{eid}/neighbors", query_string=params).get_json()
        assert (n["prev"] or {}).get("id") == (ids[index - 1] if index > 0 else None)
        assert (n["next"] or {}).get("id") == (ids[index + 1] if index + 1 < len(ids) else None)


def test_neighbors_validate_input(data_env):
    client, *_ = data_env
    assert client.get("/api/executions/xyz/neighbors").status_code == 400
    assert client.get(f"/api/executions/{'a' * 32}/neighbors?sort=name").status_code == 400
    missing = client.get(f"/api/executions/{'a' * 32}/neighbors").get_json()
    assert missing == {"prev": None, "next": None}


def test_summary_has_header_input_output_but_no_steps(data_env):
    client, data, _, _ = data_env
    s = client.get(f"/api/executions/{data.order_sync}?steps=false").get_json()
    assert isinstance(s["steps"], int) and s["steps"] == 4  # the count, not the step list
    assert s["input"]["value"] == {"order": 9001, "lines": 3} and s["output"]["value"] == {"synced": False}
    assert s["request_id"] == "req-browser-42" and s["raised_action"] == "post-to-erp"
    assert s["executed_action_ids"] == ["fetch-order", "post-to-erp"]
    assert s["validation_message"] == "ERP answered 500 Internal Server Error"
    assert [(p["name"], p["status"], p["detail"]) for p in s["problem_steps"]] == [
        ("Post to ERP", "Failed", "ERP answered 500 Internal Server Error"),
        ("Notify Slack", "Skipped", "previous step failed")]
    live = client.get(f"/api/executions/{data.watcher}?steps=false").get_json()
    assert live["status"] == "Running" and live["input"]["value"] == {"watch": "inbox"}
    assert client.get(f"/api/executions/{data.order_sync}?steps=maybe").status_code == 400


def test_listing_shows_attempt_of_max_for_retried_executions(data_env):
    client, data, _, _ = data_env
    items = {i["id"]: i for i in listing(client, limit=200)["items"]}
    billing = items[data.billing]
    assert billing["attempt"] == 2 and billing["max_attempts"] == 3 and billing["status"] == "Success"
    assert billing["trace_id"] == data.billing_attempt2
    assert items[data.order_sync]["max_attempts"] is None
    detail = client.get(f"/api/executions/{data.billing}?attempt=1").get_json()
    assert detail["status"] == "Failed" and [a["attempt"] for a in detail["attempts"]] == [1, 2]


def test_truncated_payload_reports_original_size(data_env):
    client, data, _, _ = data_env
    d = client.get(f"/api/executions/{data.truncated}").get_json()
    assert d["input"] == {"value": {"text": "lorem ipsum"}, "truncated": True, "original_size": 250000}
    skipped = [s for s in d["steps"] if s["status"] == "Skipped"]
    assert skipped and skipped[0]["skip_reason"] == "language is en"


def test_openapi_documents_every_api_route(data_env):
    client, _, _, app = data_env
    text = client.get("/api/openapi.yaml")
    assert text.status_code == 200 and text.mimetype == "application/yaml"
    spec = yaml.safe_load(text.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    assert client.get("/api/openapi.json").get_json() == spec
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "put", "delete", "patch")}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method))
    assert served - documented == set(), "routes missing from openapi.yaml"
    assert documented - served == set(), "openapi.yaml documents routes the app does not serve"
    # Every $ref resolves.
    refs = re.findall(r'\$ref: "#/components/([a-zA-Z]+)/([A-Za-z]+)"', text.get_data(as_text=True))
    for section, name in refs:
        assert name in spec["components"][section], f"{section}/{name}"


def test_time_bounds_copied_from_an_item_include_that_item(data_env):
    """The page filters with the ISO times the API gave it: those bounds must be exact, not float-rounded."""
    client, *_ = data_env
    for item in listing(client, limit=200)["items"]:
        inside = listing(client, **{"from": item["started_at"], "limit": 200})
        assert item["id"] in [i["id"] for i in inside["items"]], item["name"]


def test_status_facets_count_under_the_other_filters(data_env):
    client, *_ = data_env
    everything = client.get("/api/facets").get_json()
    assert everything["capped"] is False
    assert everything["status"] == {"Success": 2, "Failed": 1, "Partially Executed": 1, "Running": 1, "Queued": 1,
                                    "Pending": 1, "Paused": 1, "Rejected": 1}
    agents = client.get("/api/facets?kind=agent&status=Failed").get_json()["status"]  # status itself is ignored
    assert agents["Success"] == 1 and agents["Partially Executed"] == 1 and agents["Failed"] == 0
    assert sum(client.get("/api/facets?q=req-browser-42").get_json()["status"].values()) == 1
    assert client.get("/api/facets?kind=robot").status_code == 400
