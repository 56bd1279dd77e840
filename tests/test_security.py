"""Access control: authentication on every route, ingest token, CSRF, loopback default, secrets kept out."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from benchmarks.common import ServeProcess, clean_env
from tests.reliability_support import http, otlp_json, post_spans, span_ids

from execlog_otel import server as server_mod
from execlog_otel.config import ConfigError, Settings
from execlog_otel.ingest import RECEIVER_ENDPOINTS
from execlog_otel.store.client import StoreError
from execlog_otel.viewer.app import create_app
from execlog_otel.viewer.auth import CSRF_COOKIE, PUBLIC_ENDPOINTS, hash_password
from execlog_otel.viewer.security import SECURITY_HEADERS

TOKEN = "tok-" + "s3cr3t" * 6
PASSWORD = "correct horse battery staple"
SAMPLE_ARGS = {"execution_id": "0123456789abcdef0123456789abcdef", "name": "agent-x", "filename": "css/viewer.css",
               "chart": "status_over_time"}


def with_auth(settings: Settings, **extra) -> Settings:
    values = dict(auth_token=TOKEN, auth_users=(f"ada:{hash_password(PASSWORD)}",), secret_key="k" * 40)
    values.update(extra)
    return dataclasses.replace(settings, **values)


def routes(app):
    """Every (method, path) the app serves, with sample arguments filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<path:{arg}>", SAMPLE_ARGS[arg]).replace(f"<{arg}>", SAMPLE_ARGS[arg])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, path))
    return out


@pytest.fixture
def auth_app(store, settings):
    app = create_app(with_auth(settings), store)
    app.testing = True
    return app


def test_every_route_but_the_public_ones_requires_authentication(auth_app):
    client = auth_app.test_client()
    checked = 0
    for endpoint, method, path in routes(auth_app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        resp = client.open(path, method=method, headers={"Accept": "text/html"})
        if path.startswith("/api/"):
            assert resp.status_code == 401, (method, path, resp.status_code)
            assert "sign in" in resp.get_json()["error"]
        else:
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], (method, path, resp.status_code)
        checked += 1
    assert checked >= 10  # the listing, detail, API … are all there
    # Unknown paths do not reveal anything either.
    assert client.get("/api/nope").status_code == 401


def test_bearer_token_and_signed_in_session_open_every_route(auth_app):
    client = auth_app.test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for endpoint, method, path in routes(auth_app):
        if method != "GET" or endpoint in PUBLIC_ENDPOINTS:
            continue
        resp = client.get(path, headers=bearer)
        assert resp.status_code not in (401, 403), (path, resp.status_code)
    assert client.get("/api/executions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # Sign in with user and password (the form carries the CSRF token).
    page = client.get("/login?next=/api/executions")
    assert page.status_code == 200 and b'name="csrf_token"' in page.data
    csrf = client.get_cookie(CSRF_COOKIE).value
    bad = client.post("/login", data={"user": "ada", "password": "wrong", "csrf_token": csrf})
    assert bad.status_code == 401 and b"Wrong user name" in bad.data
    assert client.get("/api/executions").status_code == 401
    ok = client.post("/login", data={"user": "ada", "password": PASSWORD, "csrf_token": csrf,
                                     "next": "/api/executions"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/api/executions")
    assert client.get("/api/executions").status_code == 200
    assert client.get("/api/session").get_json()["user"] == "ada"
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page and "Sign out" in page


def test_sign_in_never_redirects_off_site(auth_app):
    client = auth_app.test_client()
    client.get("/login")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        csrf = client.get_cookie(CSRF_COOKIE).value  # a new one after each sign-in
        resp = client.post("/login", data={"token": TOKEN, "csrf_token": csrf, "next": target})
        assert resp.status_code == 302 and resp.headers["Location"] in ("/", "http://localhost/"), target


def test_state_changing_requests_need_the_csrf_token(auth_app):
    client = auth_app.test_client()
    client.get("/login")
    csrf = client.get_cookie(CSRF_COOKIE).value
    assert client.post("/login", data={"token": TOKEN}).status_code == 403  # login CSRF too
    assert client.post("/login", data={"token": TOKEN, "csrf_token": csrf}).status_code == 302
    csrf = client.get("/api/session").get_json()["csrf_token"]
    posts = [(e, p) for e, m, p in routes(auth_app) if m == "POST" and e not in RECEIVER_ENDPOINTS | {"auth.login"}]
    assert posts, "no state-changing route found"
    for _endpoint, path in posts:
        resp = client.post(path, json={"ids": [SAMPLE_ARGS["execution_id"]]})
        assert resp.status_code == 403, (path, resp.status_code)
        assert b"CSRF" in resp.data
        wrong = client.post(path, json={}, headers={"X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403, path
    # With the token the request gets through the check (whatever the route then answers).
    resp = client.post("/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 302
    assert client.get("/api/executions").status_code == 401  # signed out


def test_csrf_applies_without_authentication_too(store, settings):
    app = create_app(settings, store)
    client = app.test_client()
    assert client.post("/logout").status_code == 403
    token = client.get("/api/session").get_json()["csrf_token"]
    assert client.post("/logout", headers={"X-CSRF-Token": token}).status_code == 302


def test_without_authentication_only_loopback_names_are_answered(store, settings):
    """DNS rebinding: a page whose name is pointed at 127.0.0.1 after it loaded is same-origin with a server
    without authentication, and could read its API and its CSRF token. Such a server answers only under a
    loopback name or address, or EXECLOG_BASE_URL's host; with authentication on, credentials decide."""
    client = create_app(settings, store).test_client()
    for host in ("127.0.0.1:4318", "localhost:4318", "[::1]:4318", "127.0.0.2"):
        assert client.get("/api/executions", headers={"Host": host}).status_code == 200, host
    for host in ("rebind.example:4318", "execlog.internal", "127.0.0.1.nip.io", "", "[bad"):
        resp = client.get("/api/session", headers={"Host": host})
        assert resp.status_code == 421, host
        assert b"not a name of this server" in resp.data and b"EXECLOG_BASE_URL" in resp.data
        assert b"csrf" not in resp.data.lower()
    named = create_app(dataclasses.replace(settings, base_url="https://execlog.internal/"), store).test_client()
    assert named.get("/api/executions", headers={"Host": "execlog.internal"}).status_code == 200
    assert named.get("/api/executions", headers={"Host": "other.internal"}).status_code == 421
    signed = create_app(with_auth(settings), store).test_client()
    assert signed.get("/api/executions", headers={"Host": "execlog.internal",
                                                  "Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_security_headers_on_pages_api_errors_and_static(store, settings):
    app = create_app(settings, store)
    client = app.test_client()
    for path in ("/", "/api/executions", "/api/nope", "/executions/zz", "/static/css/viewer.css", "/login"):
        resp = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers.get(name) == value, (path, name)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_receiver_has_its_own_ingest_token(settings, start_server):
    s = dataclasses.replace(with_auth(settings), ingest_token="ingest-" + "x" * 20)
    running = start_server(settings=s)
    body = otlp_json(span_ids(2, 30))
    status, data = post_spans(running.url, body)
    assert status == 401 and b"ingest token" in data
    # The viewer's token is not the ingest token.
    status, _ = post_spans(running.url, body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 401
    status, _ = post_spans(running.url, body, {"Authorization": f"Bearer {s.ingest_token}"})
    assert status == 200


def test_serve_binds_loopback_by_default_and_refuses_remote_without_auth(store, settings):
    assert Settings.from_env(environ={}).host == "127.0.0.1"
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(ConfigError, match="refusing to listen"):
            server_mod.start(dataclasses.replace(settings, host=host), store=store)
    # The viewer's authentication is not enough: the receiver needs its ingest token too.
    with pytest.raises(ConfigError, match="EXECLOG_INGEST_TOKEN"):
        server_mod.start(with_auth(settings, host="0.0.0.0"), store=store)
    server_mod.check_bind(with_auth(settings, host="0.0.0.0"), receiver=False)  # execlog viewer: no receiver
    # With authentication, or the explicit override, it starts.
    for s in (with_auth(settings, host="0.0.0.0", ingest_token="i" * 24),
              dataclasses.replace(settings, host="0.0.0.0", insecure_allow_remote=True)):
        running = server_mod.start(s, store=store)
        running.close()
    running = server_mod.start(dataclasses.replace(settings, host="localhost"), store=store)
    running.close()


def test_cli_serve_refuses_remote_address_with_a_clear_message(tmp_path):
    out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "serve", "--data", str(tmp_path),
                          "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=120,
                         env=clean_env())
    assert out.returncode == 1
    assert "refusing to listen on 0.0.0.0" in out.stderr and "--insecure-allow-remote" in out.stderr


def test_viewer_store_is_read_only(store, settings):
    viewer = server_mod.viewer_store(settings)
    try:
        assert viewer.pool.query(f"SELECT count() FROM {store.table('otel_traces')}").result_rows[0][0] == 0
        with pytest.raises(Exception, match="readonly|READONLY"):
            viewer.pool.command(f"INSERT INTO {store.table('execlog_meta')} (Key, Value) VALUES ('a', 'b')")
        # Per-query limits still apply under readonly=2 (the query timeout).
        viewer.pool.query("SELECT 1", settings={"max_execution_time": 3})
    finally:
        viewer.close()


def test_secrets_never_reach_logs_responses_or_error_messages(tmp_path):
    secret_key = "sk-" + "q" * 30
    ingest = "ing-" + "w" * 30
    env = clean_env(EXECLOG_AUTH_TOKEN=TOKEN, EXECLOG_INGEST_TOKEN=ingest, EXECLOG_SECRET_KEY=secret_key,
                    EXECLOG_RETRY_SECRET="rs-" + "e" * 30)
    serve = ServeProcess(tmp_path / "data", env={**env}, verbose=True)
    bodies = []
    try:
        for method, path, body, headers in [
            ("GET", "/api/executions", None, {"Authorization": "Bearer " + TOKEN[:-1]}),
            ("GET", "/api/status", None, {"Authorization": "Bearer " + TOKEN}),
            ("POST", "/v1/traces", otlp_json(span_ids(1, 31)), {"Content-Type": "application/json",
                                                                 "Authorization": "Bearer nope"}),
            ("POST", "/v1/traces", b"{not json", {"Content-Type": "application/json",
                                                  "Authorization": "Bearer " + ingest}),
            ("GET", "/api/executions/zz", None, {"Authorization": "Bearer " + TOKEN}),
            ("GET", "/api/info", None, {"Authorization": "Bearer " + TOKEN}),
        ]:
            status, resp_headers, data = http(method, serve.url + path, body, headers)
            assert status < 500, (path, status, data)
            bodies.append(data.decode(errors="replace") + str(resp_headers))
    finally:
        serve.stop()
    text = "\n".join(bodies) + serve.stderr()
    for secret in (TOKEN, ingest, secret_key, "rs-" + "e" * 30):
        assert secret not in text
    # A ClickHouse password in the store URL is not echoed when the store is unreachable.
    out = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "-v", "status", "--clickhouse",
                          "http://ada:Pa55-W0rd-x@127.0.0.1:9/otel"], capture_output=True, text=True,
                         timeout=120, env=clean_env())
    assert out.returncode != 0 and "127.0.0.1:9" in out.stderr
    assert "Pa55-W0rd-x" not in out.stderr + out.stdout


def test_store_error_messages_redact_the_password():
    with pytest.raises(StoreError) as err:
        from execlog_otel.store.client import connect

        connect("http://ada:Pa55-W0rd-y@127.0.0.1:9/otel")
    assert "Pa55-W0rd-y" not in str(err.value) and "ada:***@127.0.0.1:9" in str(err.value)
