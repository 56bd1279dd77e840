"""`execlog demo` as a newcomer runs it: a subprocess whose viewer shows every capability within seconds.

The listing holds every status, tokens, models, tools and connectors; Retry works on the sample
executions (the demo runs the SDK's retry listener with the viewer's secret) and follows the reference
document's use cases and limitations; Download Code gives files that replay offline with exit 0;
SIGTERM stops it cleanly.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from benchmarks.common import clean_env, ready_line

from execlog_otel import semconv as sc

WAIT_S = 60  # generous bound for a busy machine; the test goes on as soon as the state is reached
EVERY_STATUS = {sc.Status.SUCCESS, sc.Status.FAILED, sc.Status.PARTIALLY_EXECUTED, sc.Status.RUNNING,
                sc.Status.PAUSED, sc.Status.REJECTED}


class Client:
    """The viewer's HTTP API with a cookie jar (the CSRF cookie of a Retry request)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> dict:
        with self.opener.open(f"{self.base}{path}", timeout=20) as r:
            return json.load(r)

    def raw(self, path: str) -> bytes:
        with self.opener.open(f"{self.base}{path}", timeout=20) as r:
            return r.read()

    def post(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
        req = urllib.request.Request(f"{self.base}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with self.opener.open(req, timeout=20) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def items(self) -> list[dict]:
        return self.get("/api/executions?limit=200")["items"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    proc = subprocess.Popen([sys.executable, "-m", "execlog_otel.cli", "demo", "--data", str(data_dir), "--port",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(PYTHONUNBUFFERED="1"))
    try:
        ready, banner = ready_line(proc.stdout)
        base, sent = ready.get("url", ""), 0
        for line in proc.stdout:
            banner.append(line)
            sent_line = re.search(r"sent (\d+) sample executions", line)
            if sent_line:
                sent = int(sent_line.group(1))
                break
        assert base and sent, f"execlog demo did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        client = Client(base)
        deadline = time.monotonic() + WAIT_S
        while len(client.items()) < sent or client.get("/api/status")["ingest"]["log"]["pending_spans"]:
            assert time.monotonic() < deadline, "the demo's executions never all arrived"
            time.sleep(0.2)
        proc.banner = "".join(banner)
        yield proc, client
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)


def wait_for(client: Client, execution_id: str, status: str, attempt: int) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        row = next((i for i in client.items() if i["id"] == execution_id), {})
        if row.get("status") == status and row.get("attempt") == attempt:
            return row
        assert time.monotonic() < deadline, f"{execution_id} never became {status} attempt {attempt}: {row}"
        time.sleep(0.2)


def by_name(items: list[dict], name: str, status: str | None = None) -> dict:
    return next(i for i in items if i["name"] == name and (status is None or i["status"] == status))


def test_listing_shows_every_status_and_what_agents_and_automations_record(demo):
    _, client = demo
    items = client.items()
    statuses = {i["status"] for i in items}
    assert EVERY_STATUS <= statuses
    assert statuses & {sc.Status.QUEUED, sc.Status.PENDING}
    agents = [i for i in items if i["kind"] == sc.Kind.AGENT and i["status"] == sc.Status.SUCCESS]
    assert agents and all(i["total_tokens"] > 0 and i["models"] and i["tools"] for i in agents)
    # Every agent run has a cost (its models are priced); the paid BigQuery step gives the report one.
    assert all(i["cost_usd"] and i["cost_usd"] > 0 for i in agents)
    reports = [i for i in items if i["name"] == "nightly-report"]
    assert any(i["cost_usd"] == pytest.approx(0.0125) for i in reports), (
        reports, [client.get(f"/api/executions/{i['id']}")["steps"] for i in reports], client.get("/api/status"))
    assert {"Salesforce", "Slack", "Shopify"} <= {c for i in items for c in i["connectors"]}
    assert by_name(items, "flaky-webhook", sc.Status.SUCCESS)["attempt"] == 2  # already retried once
    # Two projects: the chat agents in one, the automations in the other.
    assert {i["project"] for i in items} == {"assistants", "operations"}
    assert {i["project"] for i in items if i["kind"] == sc.Kind.AUTOMATION} == {"operations"}
    assert {i["project"] for i in agents if i["name"] != "approve-refund"} == {"assistants"}


def test_retry_follows_the_reference_use_cases_and_limitations(demo):
    _, client = demo
    items = client.items()
    decision = {name: client.get(f"/api/executions/{by_name(items, name)['id']}/retry")
                for name in ("renew-certificate", "answer-form", "route-ticket")}
    # Limitation: the retry limit (3 attempts) reached, the affordance gone.
    assert decision["renew-certificate"]["code"] == "limit_reached" and not decision["renew-certificate"]["retryable"]
    # Limitation: a Response connector makes it not retryable, and the viewer says why.
    assert decision["answer-form"]["code"] == "not_retryable"
    assert "Response connector" in decision["answer-form"]["reason"]
    # Use Case 3: the trigger was reconfigured: the reference's message, once the runner is asked (reading the
    # status never contacts it; the preview, a POST with the CSRF token, does).
    token = client.get("/api/retry/csrf")["token"]
    route_ticket = by_name(items, "route-ticket")["id"]
    _, preview = client.post("/api/retry/preview", {"ids": [route_ticket]}, {"X-CSRF-Token": token})
    assert preview["items"][0]["code"] == "trigger_changed"
    assert "previously configured trigger" in preview["items"][0]["reason"]
    assert "Start a new execution" in preview["items"][0]["reason"]

    # Clicking Retry on it shows that message (the runner refuses; nothing is started).
    status, answer = client.post(f"/api/executions/{route_ticket}/retry", {}, {"X-CSRF-Token": token})
    assert not answer["accepted"] and answer["code"] == "trigger_changed", answer
    assert "previously configured trigger" in answer["error"]

    # Use Case 1: a failure at the exact time of execution; Retry Execution -> Success, attempt 2.
    failed = by_name(items, "flaky-webhook", sc.Status.FAILED)
    assert client.get(f"/api/executions/{failed['id']}/retry")["retryable"] is True
    status, answer = client.post(f"/api/executions/{failed['id']}/retry", {}, {"X-CSRF-Token": token})
    assert status == 202 and answer["accepted"] and answer["attempt"] == 2, answer
    wait_for(client, failed["id"], sc.Status.SUCCESS, 2)
    # Without the CSRF token nothing is retried.
    persistent = by_name(items, "import-orders")["id"]
    status, answer = client.post(f"/api/executions/{persistent}/retry", {}, {})
    assert status == 403 and "CSRF" in answer["error"]
    assert client.get(f"/api/executions/{persistent}/retry")["attempt"] == 1
    # Use Case 2: it fails on every retry; after 2 retries the limit is reached and the retry refused.
    for attempt in (2, 3):
        status, answer = client.post(f"/api/executions/{persistent}/retry", {}, {"X-CSRF-Token": token})
        assert status == 202 and answer["attempt"] == attempt, answer
        wait_for(client, persistent, sc.Status.FAILED, attempt)
    status, answer = client.post(f"/api/executions/{persistent}/retry", {}, {"X-CSRF-Token": token})
    assert not answer["accepted"] and answer["code"] == "limit_reached", answer
    assert "Start a new execution" in answer["error"]


def test_download_code_replays_offline_with_exit_0(demo, tmp_path):
    _, client = demo
    items = client.items()
    for name, status in (("flaky-webhook", sc.Status.SUCCESS), ("import-orders", sc.Status.FAILED),
                         ("publish-entry", sc.Status.PARTIALLY_EXECUTED), ("research-agent", sc.Status.SUCCESS)):
        row = by_name(items, name, status)
        path = tmp_path / f"{name}.py"
        path.write_bytes(client.raw(f"/executions/{row['id']}/code"))
        env = {"PATH": os.environ.get("PATH", ""), "no_proxy": "*"}
        run = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=60, env=env,
                             cwd=tmp_path)
        assert run.returncode == 0, f"{name}: {run.stdout[-2000:]}{run.stderr[-2000:]}"


def test_demo_prints_the_grafana_connection_settings(demo):
    proc, client = demo
    found = re.search(r"ClickHouse HTTP: (http://127\.0\.0\.1:(\d+))", proc.banner)
    assert found, proc.banner
    assert f"protocol HTTP, server 127.0.0.1, port {found.group(2)}, database otel, user default" in proc.banner
    with urllib.request.urlopen(found.group(1) + "/?query=SELECT%20count()%20FROM%20execlog_executions%20FINAL",
                                timeout=20) as r:
        assert int(r.read()) >= len(client.items()) > 0  # the demo's executions, read through the endpoint


def test_sigterm_stops_the_demo_cleanly(demo):
    proc, client = demo
    assert client.get("/api/executions?limit=1")["count"] > 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    err = proc.stderr.read()
    assert "Traceback" not in err, err


def test_demo_with_auth_prints_users_of_each_role_who_see_their_projects(tmp_path):
    """`execlog demo --auth`: three users (admin, operator, viewer) are printed with their passwords; the viewer
    of one project signs in and sees only that project."""
    proc = subprocess.Popen([sys.executable, "-m", "execlog_otel.cli", "demo", "--auth", "--data",
                             str(tmp_path / "data"), "--port", "0", "--clickhouse-http-port", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env(PYTHONUNBUFFERED="1"))
    try:
        ready, _ = ready_line(proc.stdout)
        base = ready.get("url", "")
        users: dict[str, str] = {}
        for line in proc.stdout:
            found = re.match(r"\s+(\w+) / (\S+)\s+\((.*)\)", line)
            if found:
                users[found.group(1)] = found.group(2)
            if len(users) == 3:
                break
        assert base and set(users) == {"ada", "otto", "vera"}, proc.stderr.read() if proc.poll() is not None else ""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/login", timeout=20).read()
        csrf = next(c.value for c in jar if c.name == "execlog_csrf")
        form = urllib.parse.urlencode({"user": "vera", "password": users["vera"], "csrf_token": csrf}).encode()
        opener.open(f"{base}/login", data=form, timeout=20).read()
        deadline = time.monotonic() + WAIT_S
        while True:
            with opener.open(f"{base}/api/projects", timeout=20) as r:
                projects = [p["name"] for p in json.loads(r.read())["items"]]
            if projects or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert projects == ["assistants"]
        with opener.open(f"{base}/api/executions", timeout=20) as r:
            items = json.loads(r.read())["items"]
        assert items and {i["project"] for i in items} == {"assistants"}
    finally:
        proc.kill()
        proc.wait(timeout=20)
