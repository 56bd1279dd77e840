"""Projects: derivation inside ClickHouse, roles per project on every route (table-driven over openapi.yaml),
project-bound ingest tokens, and the retry audit.

A viewer in project A can neither see nor retry anything of project B through any route: each route of the
OpenAPI file is called as each role for an execution (or listing) of the caller's own project and of another
one, and answers what its ``x-execlog-role`` says.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from tests.retry_support import SECRET, add_attempt
from tests.test_retry_dispatch import Runner

import execlog_otel as ex
from execlog_otel import semconv as sc
from execlog_otel.config import Settings
from execlog_otel.store.repository import Repository
from execlog_otel.store.scope import ALL_PROJECTS, ProjectScope
from execlog_otel.viewer.app import create_app
from execlog_otel.viewer.auth import hash_password
from execlog_otel.viewer.people import PeopleFileError, parse, token_digest
from viewer_support import SpanWriter, StepSpec

T0 = time.time_ns() - 600 * 10**9
PASSWORD = "correct horse battery"
TOKENS = {"viewer-a": "tok-viewer-a-0123456789", "operator-a": "tok-operator-a-0123456789",
          "admin": "tok-admin-0123456789abcdef", "ingest-a": "tok-ingest-a-0123456789"}


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


def auth_file(tmp_path: Path, password_hash: str) -> Path:
    path = tmp_path / "people.toml"
    path.write_text(f"""
[users.vera]
password = "{password_hash}"
projects = {{ alpha = "viewer" }}

[users.otto]
password = "{password_hash}"
projects = {{ alpha = "operator", beta = "viewer" }}

[users.ada]
password = "{password_hash}"
admin = true

[tokens.viewer-a]
sha256 = "{token_digest(TOKENS['viewer-a'])}"
projects = {{ alpha = "viewer" }}

[tokens.operator-a]
token = "{TOKENS['operator-a']}"
projects = {{ alpha = "operator" }}

[tokens.root]
token = "{TOKENS['admin']}"
admin = true

[ingest_tokens.alpha-runners]
token = "{TOKENS['ingest-a']}"
project = "alpha"
""")
    return path


# --- derivation ---------------------------------------------------------------------------------------------

def test_project_is_derived_from_each_source(store):
    sources = {"explicit": ({sc.RESOURCE_PROJECT: "alpha", sc.SERVICE_NAMESPACE: "ns"}, "alpha"),
               "namespace": ({sc.SERVICE_NAMESPACE: "payments"}, "payments"),
               "nothing": ({}, sc.DEFAULT_PROJECT)}
    ids = {key: add_attempt(store, name=f"p-{key}", status="Success", start_ns=T0, resource_extra=res)[0]
           for key, (res, _) in sources.items()}
    reads = Repository(store)
    for key, (_, expected) in sources.items():
        assert reads.execution(ids[key]).project == expected, key
    # The attempts table (what costs and Insights join through) carries it too.
    rows = store.pool.query(f"SELECT ExecutionId, Project FROM {store.table('execlog_attempts')}").result_rows
    assert dict(rows) == {ids[k]: v[1] for k, v in sources.items()}
    # Scoped reads: another project's execution is not there.
    assert reads.execution(ids["explicit"], ProjectScope(frozenset({"payments"}))) is None
    assert reads.execution(ids["namespace"], ProjectScope(frozenset({"payments"}))).project == "payments"


def test_migration_derives_the_project_of_existing_executions(ch_client):
    from tests.conftest import new_store

    store = new_store(ch_client, migrate=False)
    try:
        store.migrate(up_to=15)
        eid, _ = add_attempt(store, name="old", status="Failed", start_ns=T0,
                             resource_extra={sc.SERVICE_NAMESPACE: "legacy"})
        assert "016_projects" in store.migrate()
        assert Repository(store).execution(eid).project == "legacy"
        attempts = store.pool.query(f"SELECT DISTINCT Project FROM {store.table('execlog_attempts')} FINAL")
        assert attempts.result_rows == [("legacy",)]
        # New spans are derived by the recreated views.
        new, _ = add_attempt(store, name="new", status="Success", start_ns=T0, resource_extra={})
        assert Repository(store).execution(new).project == "default"
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_sdk_configure_project_and_environment(server):
    assert Settings.from_env({"EXECLOG_PROJECT": "search"}).project == "search"
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, project="checkout")
    try:
        assert handle.tracer_provider.resource.attributes[sc.RESOURCE_PROJECT] == "checkout"
        name = f"proj-{uuid.uuid4().hex[:6]}"
        with ex.automation(name):
            pass
        handle.force_flush()
        reads = Repository(server.store)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = [e for e in reads.page(_filter()).items if e.name == name]
            if items:
                break
            time.sleep(0.2)
        assert items and items[0].project == "checkout"
    finally:
        handle.shutdown()


def _filter(**kw):
    from execlog_otel.store.filters import ListFilter

    return ListFilter(**kw)


# --- the people file -----------------------------------------------------------------------------------------

def test_people_file_errors_name_the_entry():
    with pytest.raises(PeopleFileError, match=r"users.bob.projects.alpha: role 'owner'"):
        parse('[users.bob]\npassword = "scrypt:x"\nprojects = { alpha = "owner" }\n')
    with pytest.raises(PeopleFileError, match=r"tokens.ci: expected sha256"):
        parse('[tokens.ci]\ntoken = "short"\n')
    with pytest.raises(PeopleFileError, match="unknown section"):
        parse('[people.x]\n')
    people = parse('[users.bob]\npassword = "scrypt:x"\nprojects = { "*" = "viewer" }\n')
    assert people.users["bob"].scope == ALL_PROJECTS and not people.users["bob"].may("x", "operator")


# --- every route x role x own/other project ---------------------------------------------------------------

@pytest.fixture
def world(store, settings, tmp_path, password_hash):
    runner = Runner()
    a_failed, _ = add_attempt(store, name=runner.name, status="Failed", start_ns=T0, retry_url=runner.url,
                              payload={"order_id": 1}, resource_extra={sc.RESOURCE_PROJECT: "alpha"})
    b_failed, _ = add_attempt(store, name=runner.name, status="Failed", start_ns=T0 + 10**6, retry_url=runner.url,
                              payload={"order_id": 2}, resource_extra={sc.RESOURCE_PROJECT: "beta"})
    app = create_app(replace(settings, auth_file=str(auth_file(tmp_path, password_hash)), retry_secret=SECRET),
                     store, receiver=False)
    yield {"app": app, "alpha": a_failed, "beta": b_failed, "runner": runner, "store": store}
    runner.server.close()


ROLES = {  # who -> (Authorization header, or a signed-in user)
    "viewer-a": {"token": TOKENS["viewer-a"]},
    "operator-a": {"token": TOKENS["operator-a"]},
    "admin": {"token": TOKENS["admin"]},
    "vera": {"user": "vera"},  # a signed-in viewer of alpha (session + CSRF)
}


def _client(app, who):
    c = app.test_client()
    cred = ROLES[who]
    if "token" in cred:
        c.headers = {"Authorization": f"Bearer {cred['token']}"}
        c.environ_base["HTTP_AUTHORIZATION"] = c.headers["Authorization"]
    else:
        c.get("/login")
        resp = c.post("/login", data={"user": cred["user"], "password": PASSWORD,
                                      "csrf_token": c.get_cookie("execlog_csrf").value})
        assert resp.status_code == 302, resp.data
        c.headers = {"X-CSRF-Token": c.get("/api/session").get_json()["csrf_token"]}
        c.environ_base["HTTP_X_CSRF_TOKEN"] = c.headers["X-CSRF-Token"]
    return c


def _operations():
    spec = yaml.safe_load((Path(__file__).parents[1] / "src/execlog_otel/viewer/openapi.yaml").read_text())
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "x-execlog-role" in op:
                yield path, method, op


def test_every_operation_says_what_role_it_needs():
    """A route without x-execlog-role would escape the table below: every operation must name one."""
    spec = yaml.safe_load((Path(__file__).parents[1] / "src/execlog_otel/viewer/openapi.yaml").read_text())
    missing = [f"{m.upper()} {p}" for p, item in spec["paths"].items() for m, op in item.items()
               if isinstance(op, dict) and op.get("x-execlog-role") not in ("public", "signed-in", "viewer", "operator",
                                                                            "admin")]
    assert missing == []


def _call(c, path, method, op, eid, project):
    url = path.replace("{execution_id}", eid).replace("{chart}", "status_over_time")
    params = {}
    names = {p.get("name") for p in op.get("parameters", []) if isinstance(p, dict)}
    refs = {p.get("$ref", "").rsplit("/", 1)[-1] for p in op.get("parameters", []) if isinstance(p, dict)}
    if "Project" in refs and "{execution_id}" not in path:
        params["project"] = project
    if path == "/api/compare":
        params.update(a=eid, b=eid)
    if path == "/api/sql":
        params["query"] = "SELECT 1"
    if "id" in names:
        params["id"] = eid
    headers = dict(getattr(c, "headers", {}))
    if method == "get":
        return c.get(url, query_string=params, headers=headers)
    return c.post(url, query_string=params, json={"ids": [eid]}, headers=headers)


def _expected(role_needed, who, own):
    """The status class the route must answer: ok (2xx, or a retry refusal that is not about access), 403, 404."""
    admin = who == "admin"
    if role_needed in ("public", "signed-in"):
        return "ok"
    if role_needed == "admin":
        return "ok" if admin else 403
    if not own and not admin:
        return 404
    if role_needed == "operator" and who in ("viewer-a", "vera"):
        return 403
    return "ok"


def _check(resp, path, method, want, where):
    """The answer of one route for one role and project is what ``_expected`` says."""
    body = resp.get_json(silent=True)
    if method == "post" and path == "/api/executions/code.zip":
        assert resp.status_code == (want if want != "ok" else 200), where
    elif method == "post" and path in ("/api/retry/preview", "/api/retry/bulk"):
        # Bodies name the executions: each one answers for itself.
        code = body["items"][0]["code"]
        wanted = {404: ("not_found",), 403: ("forbidden",)}.get(want)
        assert code in wanted if wanted else code not in ("not_found", "forbidden"), where
    elif path.endswith("/neighbors") and want == 404:
        # Neighbours of an unknown execution are none (200), so an invisible one answers the same.
        assert resp.status_code == 200 and body == {"prev": None, "next": None}, where
    elif want == "ok":
        refusal = path.endswith("/retry") and resp.status_code in (409, 502, 503)  # not about access
        assert resp.status_code < 400 or refusal, where
    else:
        assert resp.status_code == want, where


def test_every_route_answers_each_role_for_its_own_and_another_project(world):
    app = world["app"]
    checked = 0
    for who in ROLES:
        c = _client(app, who)
        for path, method, op in _operations():
            for own in (True, False):
                eid = world["alpha"] if own else world["beta"]
                resp = _call(c, path, method, op, eid, "alpha" if own else "beta")
                want = _expected(op["x-execlog-role"], who, own)
                where = f"{who} {method.upper()} {path} ({'own' if own else 'other'}): {resp.status_code} " \
                        f"{resp.get_json(silent=True)}"
                _check(resp, path, method, want, where)
                asked_by_id = "{execution_id}" in path or method == "post" or path == "/api/compare"
                if resp.status_code == 200 and resp.is_json and not own and who != "admin" and not asked_by_id:
                    assert world["beta"] not in resp.get_data(as_text=True), where  # nothing of beta leaks
                checked += 1
        world["runner"].idle()
    assert checked >= 4 * 2 * 25


def test_pages_are_scoped_and_listings_hide_other_projects(world):
    app, alpha, beta = world["app"], world["alpha"], world["beta"]
    c = _client(app, "vera")
    assert c.get(f"/executions/{alpha}").status_code == 200
    assert c.get(f"/executions/{beta}").status_code == 404
    assert c.get(f"/executions/{alpha}?project=beta").status_code == 404
    assert c.get(f"/executions/{beta}/code").status_code == 404
    assert c.get(f"/executions/{alpha}/code").status_code == 403
    ids = [i["id"] for i in c.get("/api/executions").get_json()["items"]]
    assert alpha in ids and beta not in ids
    projects = c.get("/api/projects").get_json()
    assert [p["name"] for p in projects["items"]] == ["alpha"] and projects["all_projects"] is False
    assert c.get("/api/executions?project=beta").status_code == 404
    assert c.get("/api/executions?project=nonexistent").status_code == 404  # the same answer: nothing leaks
    admin = _client(app, "admin").get("/api/projects").get_json()
    assert "items" in admin, admin
    assert {p["name"] for p in admin["items"]} == {"alpha", "beta"} and admin["all_projects"] is True
    assert c.get("/projects").status_code == 200


def _llm_execution(store, project: str, start_ns: int) -> None:
    """An agent of ``project`` whose step, tool and model carry the project's name (to spot a leak)."""
    writer = SpanWriter(store, service="svc", resource={sc.RESOURCE_PROJECT: project})
    step = StepSpec(f"step-of-{project}", status="Failed", error="bad", duration_ms=100,
                    attrs={sc.GEN_AI_TOOL_NAME: f"tool-of-{project}", sc.GEN_AI_REQUEST_MODEL: f"model-of-{project}",
                           sc.GEN_AI_USAGE_INPUT_TOKENS: 10, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 5})
    writer.execution(f"agent-{project}", kind="agent", status="Failed", start_ns=start_ns, duration_ms=1000,
                     steps=[step])
    writer.close()


def test_insights_and_totals_count_only_the_callers_projects(world):
    """With no filter but the range, the charts over steps, tools and token usage counted every project's rows
    for a caller limited to some (a viewer of alpha saw beta's step names, tools, models and costs)."""
    store, app = world["store"], world["app"]
    _llm_execution(store, "alpha", T0 + 2 * 10**6)
    _llm_execution(store, "beta", T0 + 3 * 10**6)
    charts = [c["id"] for c in _client(app, "admin").get("/api/insights").get_json()["charts"]]
    to_ms = (T0 + 3600 * 10**9) // 10**6
    for days in (1, 30):  # 30 days: whole-hour intervals, where the cost chart reads the hourly totals
        window = {"from": str(to_ms - days * 86_400_000), "to": str(to_ms)}
        for who, sees_beta in (("viewer-a", False), ("vera", False), ("admin", True)):
            c = _client(app, who)
            text = "".join(c.get(f"/api/insights/{chart}", query_string=window).get_data(as_text=True)
                           for chart in charts)
            for name in ("agent-", "step-of-", "tool-of-", "model-of-"):
                assert name + "alpha" in text, (who, days, name)
                assert (name + "beta" in text) == sees_beta, (who, days, name)
            totals = c.get("/api/totals", query_string=window).get_json()
            assert totals["tokens"] == (30 if sees_beta else 15), (who, days, totals)


# --- ingest tokens bound to a project --------------------------------------------------------------------

def _otlp_body(trace_id: str, resource: dict[str, str]) -> bytes:
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in resource.items()]
    span = {"traceId": trace_id, "spanId": uuid.uuid4().hex[:16], "name": "claimed", "kind": 1,
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 10**6),
            "attributes": [{"key": sc.KIND, "value": {"stringValue": "automation"}},
                           {"key": sc.STATUS, "value": {"stringValue": "Success"}}]}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": attrs},
                                          "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]}).encode()


def test_project_bound_ingest_token_overrides_the_claimed_project(store, settings, tmp_path, password_hash):
    from execlog_otel.ingest.sink import StoreSink

    s = replace(settings, auth_file=str(auth_file(tmp_path, password_hash)), ingest_token="unbound-ingest-token-0123")
    app = create_app(s, store, receiver=True, sink=StoreSink(store))
    c = app.test_client()
    bound, unbound, none = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    claim = {"service.name": "intruder", sc.RESOURCE_PROJECT: "beta"}
    resp = c.post("/v1/traces", data=_otlp_body(bound, claim), content_type="application/json",
                  headers={"Authorization": f"Bearer {TOKENS['ingest-a']}"})
    assert resp.status_code == 200, resp.data
    resp = c.post("/v1/traces", data=_otlp_body(unbound, claim), content_type="application/json",
                  headers={"Authorization": "Bearer unbound-ingest-token-0123"})
    assert resp.status_code == 200, resp.data
    assert c.post("/v1/traces", data=_otlp_body(none, claim), content_type="application/json").status_code == 401
    reads = Repository(store)
    assert reads.execution(bound).project == "alpha"  # whatever it claimed
    assert reads.execution(unbound).project == "beta"  # an unbound token keeps today's behaviour
    assert reads.execution(none) is None


def test_a_bound_token_cannot_write_into_another_projects_trace(store, settings, tmp_path, password_hash):
    """An execution is its trace: spans sent into another project's trace with a token bound to its own project
    (a later "attempt" of its root, a step) made the execution the token's project, its spans readable there
    and gone from the owner's listing. They are refused in partial_success (JSON and protobuf alike, and again
    when a logged request's rows are built), the rest of the request kept."""
    from execlog_otel.ingest import acceptance
    from execlog_otel.ingest.sink import StoreSink
    from execlog_otel.store.rows import FOREIGN_TRACE

    s = replace(settings, auth_file=str(auth_file(tmp_path, password_hash)), ingest_token="unbound-ingest-token-0123")
    c = create_app(s, store, receiver=True, sink=StoreSink(store)).test_client()
    beta_trace, alpha_trace = uuid.uuid4().hex, uuid.uuid4().hex
    owner = {"service.name": "search", sc.RESOURCE_PROJECT: "beta"}
    assert c.post("/v1/traces", data=_otlp_body(beta_trace, owner), content_type="application/json",
                  headers={"Authorization": "Bearer unbound-ingest-token-0123"}).status_code == 200
    reads = Repository(store)
    assert reads.execution(beta_trace).project == "beta"

    hijack = json.loads(_otlp_body(beta_trace, {"service.name": "intruder"}))
    spans = hijack["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["attributes"].append({"key": sc.ATTEMPT, "value": {"stringValue": "9"}})
    spans.append({**json.loads(_otlp_body(alpha_trace, {}))["resourceSpans"][0]["scopeSpans"][0]["spans"][0]})
    alpha = {"Authorization": f"Bearer {TOKENS['ingest-a']}"}
    resp = c.post("/v1/traces", data=json.dumps(hijack), content_type="application/json", headers=alpha)
    assert resp.status_code == 200
    partial = resp.get_json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1 and "another project" in partial["errorMessage"]

    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    for span in spans:  # protobuf's JSON mapping writes bytes in base64, OTLP/JSON in hex
        span.update({k: base64.b64encode(bytes.fromhex(span[k])).decode() for k in ("traceId", "spanId")})
    message = json_format.Parse(json.dumps(hijack), trace_service_pb2.ExportTraceServiceRequest())
    resp = c.post("/v1/traces", data=message.SerializeToString(), content_type="application/x-protobuf",
                  headers=alpha)
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(resp.data)
    assert resp.status_code == 200 and answer.partial_success.rejected_spans == 1

    assert reads.execution(beta_trace).project == "beta" and reads.execution(beta_trace).attempt == 1
    assert {sp["ServiceName"] for sp in reads.trace_spans(beta_trace)} == {"search"}
    assert reads.execution(alpha_trace).project == "alpha"  # the rest of the request is kept

    # Log records too (the detail shows a trace's logs): refused in another project's trace, stored in the
    # token's project otherwise; a time the table cannot hold is refused with its reason, not dead-lettered.
    records = [{"timeUnixNano": str(T0), "traceId": t, "body": {"stringValue": f"into {t}"}}
               for t in (beta_trace, alpha_trace)] + [{"timeUnixNano": str(2**64 - 1), "body": {"stringValue": "x"}}]
    logs = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "in"}}]},
                              "scopeLogs": [{"scope": {"name": "t"}, "logRecords": records}]}]}
    resp = c.post("/v1/logs", data=json.dumps(logs), content_type="application/json", headers=alpha)
    partial = resp.get_json()["partialSuccess"]
    assert resp.status_code == 200 and int(partial["rejectedLogRecords"]) == 2
    assert "another project" in partial["errorMessage"] and "2106" in partial["errorMessage"]
    stored = store.pool.query(f"SELECT TraceId, Body, ResourceAttributes['{sc.RESOURCE_PROJECT}'] "
                              f"FROM {store.database}.otel_logs").result_rows
    assert stored == [(alpha_trace, f"into {alpha_trace}", "alpha")]

    # A request kept in the write-ahead log has its rows built later: the refusal goes with it.
    accepted = acceptance.Acceptance(time.time_ns(), 30, "alpha", 0, (beta_trace,))
    kept, body = acceptance.read_payload(acceptance.payload(accepted, message.SerializeToString()))
    rows = acceptance.columns(trace_service_pb2.ExportTraceServiceRequest.FromString(body), kept, "")
    assert rows.trace_id == [alpha_trace] and rows.errors and FOREIGN_TRACE in rows.errors[0]


# --- the retry audit --------------------------------------------------------------------------------------

def test_retry_audit_records_accepted_and_refused_single_and_bulk(world):
    app, alpha, beta, runner = world["app"], world["alpha"], world["beta"], world["runner"]
    otto = _client(app, "operator-a")
    vera = _client(app, "vera")
    resp = otto.post(f"/api/executions/{alpha}/retry", json={"attempt": 2}, headers=otto.headers)
    assert (resp.status_code, resp.get_json()["code"]) == (202, "accepted"), resp.get_json()
    runner.idle()
    refused = vera.post(f"/api/executions/{alpha}/retry", headers=vera.headers)
    assert refused.status_code == 403 and "operator" in refused.get_json()["error"]
    hidden = vera.post(f"/api/executions/{beta}/retry", headers=vera.headers)
    assert hidden.status_code == 404
    bulk = otto.post("/api/retry/bulk", json={"ids": [alpha, beta]}, headers=otto.headers).get_json()
    assert [i["code"] for i in bulk["items"]] == ["already_started", "not_found"]
    admin = _client(app, "admin")
    rows = admin.get("/api/audit").get_json()["items"]
    got = sorted((r["execution_id"] == alpha, r["actor"], r["mode"], r["accepted"], r["code"]) for r in rows)
    assert got == sorted([
        (True, "operator-a", "single", True, "accepted"),
        (True, "vera", "single", False, "forbidden"),
        (False, "vera", "single", False, "not_found"),
        (True, "operator-a", "bulk", True, "already_started"),
        (False, "operator-a", "bulk", False, "not_found"),
    ])
    forbidden = next(r for r in rows if r["code"] == "forbidden")
    assert forbidden["reason"] and forbidden["address"] and forbidden["actor_kind"] == "user"
    assert forbidden["project"] == "alpha"
    # The per-execution list, for whoever sees the execution; none of beta for a viewer of alpha.
    mine = vera.get(f"/api/executions/{alpha}/audit").get_json()["items"]
    assert len(mine) == 3 and all(r["execution_id"] == alpha for r in mine)
    assert vera.get(f"/api/executions/{beta}/audit").status_code == 404
    assert vera.get("/api/audit").status_code == 403
    assert [r["project"] for r in admin.get("/api/audit?project=alpha").get_json()["items"]] == ["alpha"] * 3
    # Triggered By on attempt 2 once it is in the store.
    add_attempt(world["store"], name=runner.name, status="Success", start_ns=T0 + 5 * 10**9, execution_id=alpha,
                attempt=2, execution_start_ns=T0, retry_url=runner.url, payload={"order_id": 1},
                resource_extra={sc.RESOURCE_PROJECT: "alpha"})
    detail = vera.get(f"/api/executions/{alpha}?steps=true").get_json()
    assert {a["attempt"]: a["triggered_by"] for a in detail["attempts"]}[2] == "operator-a"
