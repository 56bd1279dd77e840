"""Sign-in resists guessing: rate limits before hashing, equal cost for unknown users, logout ends the
session on the server, Secure cookies behind HTTPS (directly or through a declared proxy)."""

from __future__ import annotations

import dataclasses
import http.client
import json
from urllib.parse import urlsplit

import pytest
import urllib3
from flask import request_started

from execlog_otel import connections
from execlog_otel import server as server_mod
from execlog_otel.viewer import auth
from execlog_otel.viewer.app import create_app
from execlog_otel.viewer.auth import CSRF_COOKIE, hash_password
from execlog_otel.viewer.throttle import PER_ADDRESS, PER_USER

TOKEN = "tok-" + "s3cr3t" * 6
PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(store, settings):
    values = dict(auth_token=TOKEN, auth_users=(f"ada:{hash_password(PASSWORD)}", f"bob:{hash_password(PASSWORD)}"),
                  secret_key="k" * 40, trusted_proxies=("10.9.9.9",))
    a = create_app(dataclasses.replace(settings, **values), store, receiver=False)
    a.testing = True
    return a


@pytest.fixture
def hashes(monkeypatch):
    """Every password hash the sign-in computes (the real function still runs)."""
    seen: list[str] = []
    real = auth.check_password_hash

    def counting(stored: str, password: str) -> bool:
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    return seen


def client_from(app, address: str):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    c.get("/login")
    return c


def sign_in(c, user: str, password: str):
    return c.post("/login", data={"user": user, "password": password, "csrf_token": c.get_cookie(CSRF_COOKIE).value})


def test_failed_sign_ins_are_limited_per_address_before_hashing(app, hashes):
    c = client_from(app, "192.0.2.1")
    names = ["ada", "bob", "nobody", "eve"]
    statuses = [sign_in(c, names[i % 4], f"guess{i}").status_code for i in range(PER_ADDRESS.amount)]
    assert statuses == [401] * PER_ADDRESS.amount
    assert len(hashes) == PER_ADDRESS.amount
    refused = sign_in(c, "ada", PASSWORD)  # even the right password waits now
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert b"try again in" in refused.data
    assert len(hashes) == PER_ADDRESS.amount  # refused before any hashing
    # Another address is not affected.
    assert sign_in(client_from(app, "192.0.2.2"), "bob", PASSWORD).status_code == 302


def test_failed_sign_ins_are_limited_per_user_name_across_addresses(app, hashes):
    for i in range(PER_USER.amount):
        assert sign_in(client_from(app, f"198.51.100.{i + 1}"), "ada", f"guess{i}").status_code == 401
    fresh = client_from(app, "198.51.100.200")
    resp = sign_in(fresh, "ADA", "guess-again")
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    assert len(hashes) == PER_USER.amount
    assert sign_in(fresh, "bob", PASSWORD).status_code == 302  # other users still sign in


def test_refused_sign_ins_count_against_the_address(app, hashes):
    """Guessing a user name that is over its limit is not free for the address sending the guesses."""
    for i in range(PER_USER.amount):
        assert sign_in(client_from(app, f"198.51.100.{i + 1}"), "ada", f"guess{i}").status_code == 401
    c = client_from(app, "198.51.100.150")
    assert [sign_in(c, "ada", "again").status_code for _ in range(PER_ADDRESS.amount)] == [429] * PER_ADDRESS.amount
    assert sign_in(c, "bob", PASSWORD).status_code == 429  # bob's name is not over its limit: the address is
    assert sign_in(client_from(app, "198.51.100.151"), "bob", PASSWORD).status_code == 302
    assert len(hashes) == PER_USER.amount + 1


def test_unknown_users_cost_what_known_ones_do(app, hashes):
    c = client_from(app, "203.0.113.5")
    assert sign_in(c, "ada", "wrong").status_code == 401
    assert sign_in(c, "nobody-here", "wrong").status_code == 401
    known, unknown = hashes
    assert known != unknown
    assert known.split("$")[0] == unknown.split("$")[0]  # same method and cost parameters (scrypt:N:r:p)


def test_bearer_token_guessing_is_limited(app):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "192.0.2.77"
    wrong = [c.get("/api/executions", headers={"Authorization": f"Bearer guess{i}"}).status_code
             for i in range(PER_ADDRESS.amount)]
    assert wrong == [401] * PER_ADDRESS.amount
    resp = c.get("/api/executions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 429 and "try again in" in resp.get_json()["error"]
    assert resp.get_json()["code"] == "too_many_attempts"
    assert int(resp.headers["Retry-After"]) >= 1
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.78"
    assert other.get("/api/executions", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_logout_ends_the_session_on_the_server(app):
    c = client_from(app, "192.0.2.9")
    assert sign_in(c, "ada", PASSWORD).status_code == 302
    copied = c.get_cookie("execlog_session").value
    assert c.get("/api/executions").status_code == 200
    token = c.get("/api/session").get_json()["csrf_token"]
    assert c.post("/logout", headers={"X-CSRF-Token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("execlog_session", copied)
    assert thief.get("/api/executions").status_code == 401
    # A new sign-in works, with a new session.
    assert sign_in(c, "ada", PASSWORD).status_code == 302
    assert c.get_cookie("execlog_session").value != copied


def _set_cookies(resp) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def test_cookies_are_secure_over_https_and_behind_a_declared_proxy(app):
    def cookies_after_sign_in(address: str, **kw) -> dict[str, str]:
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = address
        page = c.get("/login", **kw)
        csrf = _set_cookies(page)[CSRF_COOKIE].split("=", 1)[1].split(";", 1)[0]
        resp = c.post("/login", data={"user": "ada", "password": PASSWORD, "csrf_token": csrf}, **kw)
        assert resp.status_code == 302, resp.data
        return {**_set_cookies(page), **_set_cookies(resp)}

    proxied = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}}
    behind_proxy = cookies_after_sign_in("10.9.9.9", **proxied)
    assert "Secure" in behind_proxy["execlog_session"] and "Secure" in behind_proxy[CSRF_COOKIE]
    direct = cookies_after_sign_in("192.0.2.50", base_url="https://localhost")
    assert "Secure" in direct["execlog_session"]
    # The same headers from a peer that is not a declared proxy are ignored.
    spoofed = cookies_after_sign_in("192.0.2.51", **proxied)
    assert "Secure" not in spoofed["execlog_session"]
    plain = cookies_after_sign_in("192.0.2.52")
    assert "Secure" not in plain["execlog_session"]


def test_a_declared_proxy_gives_the_client_address_to_the_rate_limit(app):
    """Guesses relayed by the proxy count against the client's address, not the proxy's."""
    def via_proxy(client_ip: str):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = "10.9.9.9"
        headers = {"X-Forwarded-For": client_ip}
        c.get("/login", headers=headers)
        return c, headers

    attacker, headers = via_proxy("203.0.113.66")
    for i in range(PER_ADDRESS.amount):
        attacker.post("/login", headers=headers, data={"user": f"u{i}", "password": "x",
                                                       "csrf_token": attacker.get_cookie(CSRF_COOKIE).value})
    assert attacker.post("/login", headers=headers, data={"user": "zz", "password": "x", "csrf_token":
                                                          attacker.get_cookie(CSRF_COOKIE).value}).status_code == 429
    user, headers = via_proxy("203.0.113.67")
    assert user.post("/login", headers=headers, data={"user": "bob", "password": PASSWORD, "csrf_token":
                                                      user.get_cookie(CSRF_COOKIE).value}).status_code == 302


def test_serve_behind_a_declared_proxy_sets_secure_cookies(store, settings):
    """Through the real server: waitress passes the forwarded headers of a declared proxy, drops others'."""
    def csrf_cookie(running, **headers) -> str:
        http = urllib3.PoolManager(retries=False)
        resp = http.request("GET", running.url + "/api/session", headers={"Connection": "close", **headers})
        return resp.headers["Set-Cookie"]

    running = server_mod.start(dataclasses.replace(settings, trusted_proxies=("127.0.0.1",)), store=store)
    running.start_background()
    try:
        assert "Secure" in csrf_cookie(running, **{"X-Forwarded-Proto": "https"})
        assert "Secure" not in csrf_cookie(running)
    finally:
        running.close()
    running = server_mod.start(settings, store=store).start_background()  # no proxy declared
    try:
        assert "Secure" not in csrf_cookie(running, **{"X-Forwarded-Proto": "https"})
    finally:
        running.close()


def test_ingest_token_guessing_is_limited(store, settings):
    app = create_app(dataclasses.replace(settings, ingest_token="i" * 40), store)
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "192.0.2.90"
    body, headers = b'{"resourceSpans": []}', {"Content-Type": "application/json"}
    wrong = [c.post("/v1/traces", data=body, headers={**headers, "Authorization": f"Bearer g{i}"}).status_code
             for i in range(PER_ADDRESS.amount)]
    assert wrong == [401] * PER_ADDRESS.amount
    resp = c.post("/v1/traces", data=body, headers={**headers, "Authorization": "Bearer " + "i" * 40})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.91"
    assert other.post("/v1/traces", data=body, headers={**headers, "Authorization": "Bearer " + "i" * 40}
                      ).status_code == 200


def test_every_access_refusal_has_the_one_error_shape(app):
    c = app.test_client()
    unsigned = c.get("/api/executions")
    assert unsigned.status_code == 401 and set(unsigned.get_json()) == {"error", "code"}
    assert unsigned.get_json()["code"] == "sign_in_required"
    c.get("/login")
    no_csrf = c.post("/api/retry/preview", json={}, headers={"Authorization": "", "Accept": "application/json"})
    assert no_csrf.status_code in (401, 403) and set(no_csrf.get_json()) == {"error", "code"}


def test_an_exporters_ingest_token_is_not_counted_as_a_wrong_viewer_token(store, settings):
    """With both tokens set, OTLP exports carry the ingest token: they must not use up the address's
    allowance of wrong viewer tokens (they did: the 10th export of a minute answered 429)."""
    app = create_app(dataclasses.replace(settings, ingest_token="i" * 40, auth_token=TOKEN, secret_key="k" * 40),
                     store)
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "192.0.2.95"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + "i" * 40}
    statuses = [c.post("/v1/traces", data=b'{"resourceSpans": []}', headers=headers).status_code
                for _ in range(PER_ADDRESS.amount + 3)]
    assert statuses == [200] * (PER_ADDRESS.amount + 3)
    assert c.get("/api/executions", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


class Peer:
    """One HTTP client of the real server from a chosen loopback source address (Linux: any 127/8)."""

    def __init__(self, url: str, source: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source, self.headers = parts.hostname, parts.port, source, headers or {}
        status, headers_, page = self.send("GET", "/login")
        assert status == 200
        self.csrf = page.decode().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.cookie = next(v.split(";", 1)[0] for k, v in headers_ if k.lower() == "set-cookie"
                           and v.startswith(CSRF_COOKIE))

    def send(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
             ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=(self.source, 0))
        try:
            conn.request(method, path, body, {**self.headers, **(headers or {})})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def sign_in(self, user: str, password: str) -> tuple[int, list[tuple[str, str]], bytes]:
        return self.send("POST", "/login", f"user={user}&password={password}&csrf_token={self.csrf}",
                         {"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})


def test_guesses_over_the_limit_are_turned_away_before_the_app(store, settings, monkeypatch):
    """Through the real server: once an address is over its limit, its further guesses (sign-in posts,
    bearer tokens, also relayed by a declared proxy) get 429 from the server's loop without reaching
    the app, so a flood of them cannot occupy the worker threads; others are served by the app as before."""
    monkeypatch.setattr(connections, "HOLD_S", 0.1)
    values = dict(auth_token=TOKEN, auth_users=(f"ada:{hash_password(PASSWORD)}", f"bob:{hash_password(PASSWORD)}"),
                  secret_key="k" * 40, trusted_proxies=("127.0.0.1",))
    running = server_mod.start(dataclasses.replace(settings, **values), store=store).start_background()
    reached: list[str] = []

    def count(sender, **_) -> None:
        from flask import request

        reached.append(f"{request.remote_addr} {request.method} {request.path}")

    try:
        with request_started.connected_to(count):
            guesser = Peer(running.url, "127.0.0.2")
            assert [guesser.sign_in(f"u{i}", "guess")[0] for i in range(PER_ADDRESS.amount)] == \
                [401] * PER_ADDRESS.amount
            assert len(reached) == 1 + PER_ADDRESS.amount  # the form, then each wrong guess
            refused = [guesser.sign_in("ada", PASSWORD) for _ in range(3)]  # even the right password waits
            assert [status for status, _, _ in refused] == [429] * 3
            headers = dict(refused[0][1])
            assert int(headers["Retry-After"]) >= 1 and b"try again in" in refused[0][2]
            api = guesser.send("GET", "/api/executions", headers={"Authorization": f"Bearer {TOKEN}"})
            assert api[0] == 429 and json.loads(api[2])["code"] == "too_many_attempts"
            assert len(reached) == 1 + PER_ADDRESS.amount  # none of them reached the app
            # What the address does without guessing still reaches the app, and other addresses sign in.
            assert guesser.send("GET", "/api/health")[0] == 200
            assert Peer(running.url, "127.0.0.3").sign_in("bob", PASSWORD)[0] == 302

            # Through the declared proxy (127.0.0.1): screened by the address it names, not the proxy's.
            before = len(reached)
            relayed = Peer(running.url, "127.0.0.1", {"X-Forwarded-For": "203.0.113.70"})
            assert [relayed.sign_in(f"v{i}", "guess")[0] for i in range(PER_ADDRESS.amount)] == \
                [401] * PER_ADDRESS.amount
            assert relayed.sign_in("bob", PASSWORD)[0] == 429
            assert len(reached) == before + 1 + PER_ADDRESS.amount
            assert Peer(running.url, "127.0.0.1", {"X-Forwarded-For": "203.0.113.71"}).sign_in("bob", PASSWORD)[0] \
                == 302
            # A client that is not a declared proxy cannot choose the address it is screened by.
            assert Peer(running.url, "127.0.0.2", {"X-Forwarded-For": "203.0.113.72"}).sign_in("bob", "x")[0] == 429
    finally:
        running.close()


def test_the_screen_names_exactly_the_guesses_the_app_would_refuse(store, settings):
    from execlog_otel.viewer.guess_screen import GuessScreen

    app = create_app(dataclasses.replace(settings, auth_token=TOKEN, ingest_token="i" * 40, secret_key="k" * 40,
                                         auth_users=(f"ada:{hash_password(PASSWORD)}",)), store)
    screen = GuessScreen(app)
    for _ in range(PER_ADDRESS.amount):
        app.extensions["execlog_guesses"].failed("192.0.2.33")
    export = screen("192.0.2.33", "POST", "/v1/traces", {"CONTENT_TYPE": "application/x-protobuf"})
    assert export is not None and export.startswith(b"HTTP/1.1 429 ")
    assert b"Content-Type: application/x-protobuf\r\n" in export and b"\r\nRetry-After: " in export
    assert screen("192.0.2.33", "POST", "/login", {}) is not None
    assert b'"code": "too_many_attempts"' in screen("192.0.2.33", "GET", "/api/executions",
                                                   {"AUTHORIZATION": "Bearer x"})
    # Not guesses: served by the app as usual, also for this address; other addresses are not screened.
    assert screen("192.0.2.33", "GET", "/api/executions", {}) is None
    assert screen("192.0.2.33", "GET", "/login", {}) is None
    assert screen("192.0.2.34", "POST", "/login", {}) is None
    # Without a token to guess, a bearer header is not a guess.
    open_app = create_app(settings, store)
    for _ in range(PER_ADDRESS.amount):
        open_app.extensions["execlog_guesses"].failed("192.0.2.33")
    plain = GuessScreen(open_app)
    assert plain("192.0.2.33", "GET", "/api/executions", {"AUTHORIZATION": "Bearer x"}) is None
    assert plain("192.0.2.33", "POST", "/v1/traces", {"AUTHORIZATION": "Bearer x"}) is None
