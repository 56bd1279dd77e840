"""Span data never steers the server's requests: retry targets, forged attempts, slow or huge runner answers.

Runners here are real HTTP servers on loopback that record what reaches them; the viewer is the real
app over a real store (and, where threads matter, the real waitress server of ``execlog serve``).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import urllib3
from tests.retry_support import SECRET, add_attempt

from execlog_otel import semconv as sc
from execlog_otel import server as server_mod
from execlog_otel.retry import targets
from execlog_otel.retry.dispatcher import MAX_MESSAGE_CHARS, OUTBOUND_SLOTS, RetryDispatcher, RunnerClient
from execlog_otel.retry.proof import attempt_proof, unproven_claims
from execlog_otel.store.rows import SpanColumns
from execlog_otel.viewer.app import create_app

T0 = time.time_ns() - 600 * 10**9


class FakeRunner(http.server.ThreadingHTTPServer):
    """Records every request; answers like a retry listener unless told otherwise."""

    daemon_threads = True

    def __init__(self, status: int = 202, body: bytes | None = None, trickle: bool = False) -> None:
        self.seen: list[tuple[str, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                outer.seen.append((self.path, data))
                if self.path.endswith("/check"):
                    answer, code = json.dumps({"items": [{"ok": True} for _ in data["items"]]}).encode(), 200
                else:
                    answer, code = body if body is not None else json.dumps({"status": "accepted"}).encode(), status
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)) if not trickle else "1000")
                self.end_headers()
                if trickle:  # a byte now and then: each read succeeds, the answer never completes
                    for _ in range(1000):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                self.wfile.write(answer)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/execlog/retry", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


class DeadRunner:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/execlog/retry"

    def close(self) -> None:
        for s in [*self.accepted, self.sock]:
            s.close()


@pytest.fixture
def runner():
    r = FakeRunner()
    yield r
    r.shutdown()


def make_client(store, settings, **overrides):
    app = create_app(replace(settings, retry_secret=SECRET, **overrides), store, receiver=False)
    c = app.test_client()
    c.csrf = c.get("/api/retry/csrf").get_json()["token"]
    return c


def failed(store, url: str, payload: dict | None = None, **kw) -> str:
    return add_attempt(store, name="sync", status="Failed", start_ns=kw.pop("start_ns", T0), retry_url=url,
                       payload=payload if payload is not None else {"order": 7}, **kw)[0]


def retry(client, eid):
    return client.post(f"/api/executions/{eid}/retry", headers={"X-CSRF-Token": client.csrf})


# --- where requests may go ---------------------------------------------------------------------

@pytest.mark.parametrize("form", ["127.0.0.1", "2130706433", "0x7f000001", "0x7F.0.0.1", "0177.0.0.1", "127.1",
                                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "LOCALHOST"])
def test_every_form_of_a_loopback_host_is_normalised(form):
    target = targets.parse(f"http://{form}:8080/execlog/retry")
    assert target.is_loopback
    if form != "LOCALHOST":
        assert target.url == "http://127.0.0.1:8080/execlog/retry"


def test_paths_are_normalised_and_prefixes_match_on_segment_boundaries():
    allowed = targets.parse_allowlist(("http://127.0.0.1:9/allowed",))
    ok = targets.check("http://0x7f000001:9/allowed/execlog/retry", allowed, viewer_on_loopback=True)
    assert ok.url == "http://127.0.0.1:9/allowed/execlog/retry"
    for bad in ("http://127.0.0.1:9/allowed/../secret", "http://127.0.0.1:9/allowed/%2e%2e/secret",
                "http://127.0.0.1:9/allowed-not/x", "http://127.0.0.1:10/allowed/x", "https://127.0.0.1:9/allowed/x",
                "http://127.0.0.2:9/allowed/x", "http://127.0.0.1:9/allowed/x?to=elsewhere",
                "http://user:pw@127.0.0.1:9/allowed/x", "file:///etc/passwd", "gopher://127.0.0.1:9/allowed"):
        with pytest.raises(targets.TargetRefused):
            targets.check(bad, allowed, viewer_on_loopback=True)


def test_allowlisted_retry_calls_the_normalised_url_and_refuses_the_rest(store, settings, runner):
    client = make_client(store, settings, retry_allowed_urls=(runner.url("/allowed"),))
    traversal = failed(store, runner.url("/allowed/../secret"))
    confusion = failed(store, runner.url("/allowed-not/x"))
    for eid in (traversal, confusion):
        resp = retry(client, eid)
        assert (resp.status_code, resp.get_json()["code"]) == (409, "url_not_allowed")
        assert "EXECLOG_RETRY_ALLOWED_URLS" in resp.get_json()["error"]
    assert runner.seen == []
    hex_host = failed(store, runner.url("/allowed/execlog/retry", host="0x7f000001"))
    resp = retry(client, hex_host)
    assert resp.status_code == 202, resp.get_json()
    assert [path for path, _ in runner.seen] == ["/allowed/execlog/retry"]


def test_without_allowlist_only_loopback_and_only_while_the_viewer_is_on_loopback(store, settings, runner):
    client = make_client(store, settings)  # listens on 127.0.0.1
    remote = failed(store, "http://10.255.255.1:4319/execlog/retry")
    resp = retry(client, remote)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "url_not_allowed")
    assert "EXECLOG_RETRY_ALLOWED_URLS" in resp.get_json()["error"]
    local = failed(store, runner.url(host="2130706433"))
    assert retry(client, local).status_code == 202  # the demo's case: runner and viewer on one machine
    exposed = make_client(store, settings, host="0.0.0.0", insecure_allow_remote=True)
    again = failed(store, runner.url())
    resp = retry(exposed, again)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "url_not_allowed")
    assert "set EXECLOG_RETRY_ALLOWED_URLS" in resp.get_json()["error"]
    assert len(runner.seen) == 1


@pytest.mark.parametrize("host", ["localhost", "0x7f000001", "2130706433", "[::ffff:127.0.0.1]"])
def test_reading_the_retry_status_never_contacts_the_runner(store, settings, runner, host):
    client = make_client(store, settings)
    eid = failed(store, runner.url(host=host))
    resp = client.get(f"/api/executions/{eid}/retry")  # what the detail page does on load; no CSRF token
    assert resp.status_code == 200 and resp.get_json()["retryable"] is True
    assert client.get(f"/api/executions/{eid}/retry?check_runner=true").status_code == 200
    assert runner.seen == []


# --- forged attempts ---------------------------------------------------------------------------

def test_a_forged_retry_of_changes_nothing_about_the_victim(store, settings, runner):
    attacker = FakeRunner()
    try:
        victim = failed(store, runner.url(), {"order": 7})
        first_root = store.pool.query(f"SELECT SpanId FROM {store.table('otel_traces')} WHERE TraceId = {{t:String}}"
                                        " AND ParentSpanId = ''", parameters={"t": victim}).result_rows[0][0]
        genuine_proof = attempt_proof(SECRET, victim, 1, victim, first_root, runner.url(), json.dumps({"order": 7}))
        # No proof; the victim's own proof copied onto another trace; one made with another secret.
        add_attempt(store, name="sync", status="Failed", start_ns=T0 + 10**9, execution_id=victim, attempt=2,
                    execution_start_ns=T0, retry_url=attacker.url(), payload={"order": "evil"}, proof_secret="")
        add_attempt(store, name="other", status="Failed", start_ns=T0 + 2 * 10**9, execution_id=victim, attempt=2,
                    execution_start_ns=T0, retry_url=attacker.url(), payload={"order": "evil"}, proof_secret="",
                    extra={sc.RETRY_PROOF: genuine_proof})
        add_attempt(store, name="sync", status="Success", start_ns=T0 + 3 * 10**9, execution_id=victim, attempt=3,
                    execution_start_ns=T0, retry_url=attacker.url(), proof_secret="wrong-secret")
        # A second root inside the victim's own trace, with the victim's proof copied and the same span id.
        cols = SpanColumns()
        cols.add(start_ns=T0 - 10**9, end_ns=T0, trace_id=victim, span_id=first_root, parent_span_id="",
                 trace_state="", name="sync", kind="Internal", service_name="runner",
                 resource={"service.name": "runner", sc.RESOURCE_RETRY_URL: attacker.url()}, scope_name="t",
                 scope_version="", status_code="Error", status_message="boom",
                 attributes={sc.KIND: "automation", sc.EXECUTION_NAME: "sync", sc.STATUS: "Failed",
                             sc.TRIGGER_PAYLOAD: json.dumps({"order": "evil"}), sc.TRIGGER_FINGERPRINT: "fp1",
                             sc.RETRY_PROOF: genuine_proof})
        store.insert_span_columns(cols.columns)
        client = make_client(store, settings)
        status = client.get(f"/api/executions/{victim}/retry").get_json()
        assert (status["retryable"], status["attempt"], status["next_attempt"], status["status"]) == \
            (True, 1, 2, "Failed")
        resp = retry(client, victim)
        assert resp.status_code == 202, resp.get_json()
        assert attacker.seen == []
        (path, sent), = runner.seen
        assert (sent["trigger_payload"], sent["name"], sent["attempt"]) == ({"order": 7}, "sync", 2)
    finally:
        attacker.shutdown()


def test_a_proven_attempt_counts(store, settings, runner):
    victim = failed(store, runner.url())
    add_attempt(store, name="sync", status="Failed", start_ns=T0 + 10**9, execution_id=victim, attempt=2,
                execution_start_ns=T0, retry_url=runner.url())
    status = make_client(store, settings).get(f"/api/executions/{victim}/retry").get_json()
    assert (status["attempt"], status["next_attempt"]) == (2, 3)


def test_serve_lists_an_unproven_claim_as_its_own_execution(store, settings):
    """Through the receiver: the forged trace is an execution of its own; the victim's row is unchanged."""
    running = server_mod.start(replace(settings, retry_secret=SECRET), store=store).start_background()
    try:
        victim = failed(store, "http://127.0.0.1:1/execlog/retry")
        forged_trace = uuid.uuid4().hex
        span = {"traceId": forged_trace, "spanId": uuid.uuid4().hex[:16], "name": "sync", "kind": 1,
                "startTimeUnixNano": str(T0 + 10**9), "endTimeUnixNano": str(T0 + 2 * 10**9),
                "status": {"code": 1},
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in {
                    sc.KIND: "automation", sc.EXECUTION_NAME: "sync", sc.STATUS: "Success", sc.RETRY_OF: victim,
                    sc.ATTEMPT: "2", sc.EXECUTION_START: str(T0), sc.RETRY_PROOF: "v1:" + "0" * 64}.items()]}
        body = {"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "attacker"}},
            {"key": sc.RESOURCE_RETRY_URL, "value": {"stringValue": "http://127.0.0.1:2/evil"}}]},
            "scopeSpans": [{"spans": [span]}]}]}
        req = urllib.request.Request(running.url + "/v1/traces", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=30).status == 200
        rows = {}
        for _ in range(100):
            listing = json.loads(urllib.request.urlopen(running.url + "/api/executions", timeout=30).read())
            rows = {r["id"]: r for r in listing["items"]}
            if forged_trace in rows:
                break
            time.sleep(0.1)
        assert rows[forged_trace]["status"] == "Success"
        assert (rows[victim]["status"], rows[victim]["attempt"]) == ("Failed", 1)
    finally:
        running.close()


def test_receiver_keeps_proven_claims_and_demotes_the_rest():
    trace, root, eid = uuid.uuid4().hex, "1" * 16, "a" * 32
    url, payload = "http://127.0.0.1:1/execlog/retry", '{"order": 7}'
    good = attempt_proof(SECRET, eid, 2, trace, root, url, payload)
    proven = {sc.RETRY_OF: eid, sc.ATTEMPT: "2", sc.TRIGGER_PAYLOAD: payload, sc.RETRY_PROOF: good}
    marker = {sc.RETRY_OF: eid, sc.ATTEMPT: "2", sc.MARKER: sc.MARKER_STATE,
              sc.RETRY_PROOF: attempt_proof(SECRET, eid, 2, trace, root)}
    other_attempt = {**proven, sc.ATTEMPT: "3"}
    other_payload = {**proven, sc.TRIGGER_PAYLOAD: '{"order": "evil"}'}
    columns = [[] for _ in range(22)]
    columns[1] = [trace] * 5
    columns[2] = [root, "2" * 16, root, root, root]
    columns[3] = ["", root, "", "", ""]
    columns[8] = [{sc.RESOURCE_RETRY_URL: url}] * 4 + [{sc.RESOURCE_RETRY_URL: "http://127.0.0.1:2/evil"}]
    columns[11] = [proven, marker, other_attempt, other_payload, {**proven}]
    assert unproven_claims(columns, SECRET) == 3
    assert proven[sc.RETRY_OF] == eid and marker[sc.RETRY_OF] == eid
    for forged in columns[11][2:]:
        assert sc.RETRY_OF not in forged and forged[sc.RETRY_OF_UNPROVEN] == eid


def test_an_execution_no_runner_proved_is_not_retried(store, settings, runner):
    """A failed "execution" made of span data alone (no proof) names a runner and a payload: not retried."""
    eid = failed(store, runner.url(), {"order": "evil"}, proof_secret="")
    client = make_client(store, settings)
    status = client.get(f"/api/executions/{eid}/retry").get_json()
    assert (status["retryable"], status["code"]) == (False, "unproven")
    resp = retry(client, eid)
    assert (resp.status_code, resp.get_json()["code"]) == (409, "unproven")
    assert "EXECLOG_RETRY_SECRET" in resp.get_json()["error"]
    assert runner.seen == []


# --- runners that answer badly ------------------------------------------------------------------

def test_a_huge_runner_answer_is_not_read(store, settings):
    huge = FakeRunner(status=500, body=b'{"error": "' + b"x" * (8 * 1024 * 1024) + b'"}')
    try:
        client = make_client(store, settings)
        resp = retry(client, failed(store, huge.url()))
        assert (resp.status_code, resp.get_json()["code"]) == (502, "runner_error")
        assert "larger than" in resp.get_json()["error"]
        assert len(resp.data) < 4096
    finally:
        huge.shutdown()


def test_a_runner_message_is_shown_bounded_and_as_text(store, settings):
    noisy = FakeRunner(status=500, body=json.dumps({"error": "<script>x</script>\x1b[31m\n" + "y" * 5000}).encode())
    try:
        resp = retry(make_client(store, settings), failed(store, noisy.url()))
        error = resp.get_json()["error"]
        assert resp.status_code == 502 and "\x1b" not in error and "\n" not in error
        assert error.count("y") < MAX_MESSAGE_CHARS
    finally:
        noisy.shutdown()


def test_a_trickling_runner_answer_hits_the_deadline(store, settings):
    slow = FakeRunner(trickle=True)
    try:
        viewer = replace(settings, retry_secret=SECRET)
        dispatcher = RetryDispatcher(store, viewer, RunnerClient(SECRET, timeout_s=1.5, read_timeout_s=1))
        outcome = dispatcher.retry(failed(store, slow.url()))
        assert (outcome.http_status, outcome.code) == (502, "runner_unreachable")
        assert "timed out" in outcome.message
    finally:
        slow.shutdown()


def test_dead_runners_occupy_at_most_the_outbound_slots(store, settings):
    """10 runners that never answer: the retries wait (or are refused at once), health and listing answer."""
    dead = [DeadRunner() for _ in range(10)]
    running = server_mod.start(replace(settings, retry_secret=SECRET), store=store).start_background()
    http = urllib3.PoolManager(maxsize=20)
    try:
        ids = [failed(store, d.url) for d in dead]
        token = http.request("GET", running.url + "/api/retry/csrf").json()["token"]
        headers = {"X-CSRF-Token": token, "Cookie": f"execlog_csrf={token}"}
        pool = ThreadPoolExecutor(10)
        posts = [pool.submit(http.request, "POST", f"{running.url}/api/executions/{eid}/retry", headers=headers,
                             timeout=60) for eid in ids]
        deadline = time.monotonic() + 30
        while sum(len(d.accepted) for d in dead) < OUTBOUND_SLOTS and time.monotonic() < deadline:
            time.sleep(0.05)
        probes = [http.request("GET", running.url + path, timeout=urllib3.Timeout(total=5))
                  for path in ("/api/health", "/api/executions") * 3]
        waiting = sum(1 for f in posts if not f.done())
        statuses = sorted((f.result().status, f.result().json()["code"]) for f in posts)
        assert [p.status for p in probes] == [200] * 6
        assert waiting >= 1  # the probes were answered while runners still held calls
        assert statuses.count((502, "runner_unreachable")) <= OUTBOUND_SLOTS
        assert statuses.count((503, "runner_busy")) >= 10 - OUTBOUND_SLOTS
        assert sum(len(d.accepted) for d in dead) <= OUTBOUND_SLOTS * 2  # one re-send each at most
    finally:
        running.close()
        for d in dead:
            d.close()


def test_a_bulk_retry_calls_a_dead_runner_once(store, settings):
    dead = DeadRunner()
    try:
        viewer = replace(settings, retry_secret=SECRET)
        dispatcher = RetryDispatcher(store, viewer, RunnerClient(SECRET, timeout_s=1, read_timeout_s=0.5))
        ids = [failed(store, dead.url, {"order": i}) for i in range(5)]
        outcomes = dispatcher.bulk(ids)
        assert [(o.http_status, o.code) for o in outcomes] == [(502, "runner_unreachable")] * 5
        assert "earlier request of this bulk retry" in outcomes[-1].message
        assert len(dead.accepted) <= 2  # the first call and its one re-send
    finally:
        dead.close()
