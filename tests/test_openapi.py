"""``viewer/openapi.yaml`` against what the API really answers: every documented JSON response of the
viewer's routes, over the shared viewer data (every status, retries, live executions, truncated payloads),
is validated with openapi-core. Object schemas are checked strictly here (no property the document does
not name), so a field added to a presenter without documenting it fails this test."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import yaml
from benchmarks.big_execution import generate as generate_big
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from execlog_otel.store.repository import MAX_STEPS
from execlog_otel.viewer.api import openapi_text
from execlog_otel.viewer.app import create_app
from viewer_support import SpanWriter, populate


def _strict(node: Any, schemas: dict[str, Any]) -> Any:
    """The document with allOf merged and additionalProperties: false on every object that lists properties."""
    if isinstance(node, list):
        return [_strict(x, schemas) for x in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in node["allOf"]:
            if "$ref" in part:
                part = schemas[part["$ref"].rsplit("/", 1)[1]]
            merged["properties"].update(part.get("properties", {}))
        node = {**{k: v for k, v in node.items() if k != "allOf"}, **merged}
    out = {k: _strict(v, schemas) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    spec = yaml.safe_load(openapi_text())
    spec = _strict(spec, copy.deepcopy(spec["components"]["schemas"]))
    return OpenAPI.from_dict(spec)


@pytest.fixture
def api(store, settings):
    writer = SpanWriter(store)
    data = populate(writer)
    yield create_app(settings, store, receiver=False).test_client(), data
    writer.close()


def check(openapi: OpenAPI, client, url: str, status: int = 200) -> dict[str, Any]:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.get_json())
    request = WerkzeugOpenAPIRequest(client.application.test_request_context(url).request)
    openapi.validate_response(request, WerkzeugOpenAPIResponse(resp))
    return resp.get_json()


def test_every_json_answer_matches_the_document(openapi, api):
    client, data = api
    page = check(openapi, client, "/api/executions?limit=3")
    assert page["next_cursor"] and len(page["items"]) == 3
    check(openapi, client, f"/api/executions?limit=3&cursor={page['next_cursor']}")
    check(openapi, client, "/api/executions?status=Failed,Running&sort=duration&order=asc&q=order")
    polled = check(openapi, client, f"/api/executions?ids={data.watcher},{data.billing}")
    assert [i["id"] for i in polled["items"]] == [data.watcher, data.billing]
    for eid in (data.order_sync, data.billing, data.truncated, data.watcher, data.xss):
        detail = check(openapi, client, f"/api/executions/{eid}")
        assert detail["id"] == eid and detail["steps"] is not None
        check(openapi, client, f"/api/executions/{eid}?steps=false")
        check(openapi, client, f"/api/executions/{eid}/neighbors?status=Failed")
        check(openapi, client, f"/api/executions/{eid}/code")
    older = check(openapi, client, f"/api/executions/{data.billing}?attempt=1")
    assert older["shown_attempt"] == 1 and [a["attempt"] for a in older["attempts"]] == [1, 2]
    compared = check(openapi, client, f"/api/compare?a={data.billing}&a_attempt=1&b={data.billing}&b_attempt=2")
    assert compared["first_divergence"] is not None
    # A big execution: its detail is the first page; the others, a subtree, the overview and a search.
    big = generate_big(client.application.extensions["execlog"].store, MAX_STEPS + 1000, "b1" * 16,
                       time.time_ns() - 3_600 * 10**9)
    first = check(openapi, client, f"/api/executions/{big.execution_id}")
    assert first["steps_paged"] and first["steps_total"] == MAX_STEPS + 1000
    check(openapi, client, f"/api/executions/{big.execution_id}/steps?offset=4000&limit=50")
    check(openapi, client, f"/api/executions/{big.execution_id}/steps?parent={first['steps'][0]['span_id']}&limit=5")
    check(openapi, client, f"/api/executions/{big.execution_id}/steps/overview")
    check(openapi, client, f"/api/executions/{big.execution_id}/steps/search?q=rejected")
    check(openapi, client, f"/api/executions/{data.billing}/steps?attempt=1")
    check(openapi, client, "/api/facets?kind=automation")
    check(openapi, client, "/api/names?kind=all")
    check(openapi, client, "/api/info")
    check(openapi, client, "/api/health")
    check(openapi, client, "/api/status")
    check(openapi, client, "/api/sql?query=SELECT%20count()%20FROM%20execlog_executions")


def test_errors_have_the_documented_shape(openapi, api):
    client, data = api
    for url, status in (("/api/executions?limit=0", 400), ("/api/executions?cursor=nope", 400),
                        ("/api/executions/" + "f" * 32, 404), ("/api/executions/xyz", 400),
                        (f"/api/executions/{data.billing}?attempt=9", 400), ("/api/names?kind=robots", 400),
                        ("/api/sql?query=DROP%20TABLE%20x", 400)):
        body = check(openapi, client, url, status)
        assert set(body) == {"error", "code"} and body["error"], (url, body)
