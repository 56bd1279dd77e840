"""The viewer's HTML pages through the Flask test client: routes, escaping, CSP, no inline script,
static files, and the WSGI entry."""

from __future__ import annotations

import time
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from execlog_otel.viewer.app import create_app
from viewer_support import SpanWriter

EID = "0123456789abcdef0123456789abcdef"  # well formed, never recorded


class MarkupAudit(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, event-handler attributes, inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.inline_styles: list[str] = []
        self._in_script = False
        self.inline_script_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
            self._in_script = True
        if tag == "style":
            self.inline_styles.append("<style>")
        for name, _ in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"{tag}[{name}]")
            if name.lower() == "style":
                self.inline_styles.append(tag)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_script_text += data.strip()


@pytest.fixture
def recorded(store) -> str:
    """The id of one recorded execution (the detail page of an id that is not in the store is a 404)."""
    writer = SpanWriter(store)
    try:
        eid, _ = writer.execution("pages-test", start_ns=time.time_ns())
    finally:
        writer.close()
    return eid


@pytest.mark.parametrize("path", ["/", "/executions", "/executions?kind=agent&status=Failed",
                                  "/executions/{recorded}", f"/executions/{EID}", "/no/such/page"])
def test_pages_render_with_strict_csp_and_no_inline_code(client, recorded, path):
    r = client.get(path.format(recorded=recorded))
    if path.endswith(("/page", EID)):
        # Not found: the viewer's own page (styled, scripts only from /static), with the reason.
        assert r.status_code == 404 and r.mimetype == "text/html"
        assert 'class="error-box"' in r.get_data(as_text=True)
        r.status_code = 200
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    audit = MarkupAudit()
    audit.feed(r.get_data(as_text=True))
    assert audit.scripts and all(s.get("src", "").startswith("/static/js/") for s in audit.scripts)
    assert all(s.get("type") == "module" for s in audit.scripts)
    assert audit.inline_script_text == ""
    assert audit.handlers == [] and audit.inline_styles == []


def test_listing_page_has_every_column_filter_and_row_action(client):
    html = client.get("/").get_data(as_text=True)
    for column in ("Name", "Status", "Started At", "Duration", "Steps", "Connectors Used", "Tools Used",
                   "Total Tokens", "Model", "Actions"):
        assert f">{column}" in html, column
    for status in ("Success", "Failed", "Partially Executed", "Running", "Queued", "Pending", "Paused", "Rejected"):
        assert f'value="{status}"' in html, status
    for control in ('data-kind="agent"', 'data-kind="automation"', 'data-range="1h"', 'data-range="24h"',
                    'data-range="7d"', 'data-range="30d"', 'data-range="custom"', 'id="search"',
                    'class="act act-view"', 'class="act act-copy"', 'class="act act-quick"',
                    'data-slot="download-code"', 'data-slot="retry"', 'data-slot="quickview-code"',
                    '<dialog class="quick-view"'):
        assert control in html, control


def test_detail_page_has_header_slots_and_steps(client, recorded):
    html = client.get(f"/executions/{recorded}").get_data(as_text=True)
    assert f'data-execution-id="{recorded}"' in html
    for part in ('id="waterfall"', 'id="step-panel"', 'id="exec-input"', 'id="exec-output"', 'id="attempt-select"',
                 'data-slot="retry"', 'data-slot="download-code"', 'id="prev-exec"', 'id="next-exec"'):
        assert part in html, part


def test_detail_ids_are_validated_and_canonical(client, recorded):
    for bad in ("not-an-id", "g" * 32):
        r = client.get(f"/executions/{bad}")
        assert r.status_code == 404 and "is not an execution id" in r.get_data(as_text=True)
    upper = client.get(f"/executions/{recorded.upper()}?list=kind%3Dagent")
    assert upper.status_code == 301
    assert upper.headers["Location"].endswith(f"/executions/{recorded}?list=kind%3Dagent")


def test_an_unknown_execution_is_a_404_page_that_says_so(client):
    """Item 7: a well-formed id that is not in the store is not an empty 200 page."""
    r = client.get(f"/executions/{'0' * 32}")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert f"no execution {'0' * 32} in this store" in html and 'class="error-box"' in html
    assert "← Execution Log</a>" in html  # a way back
    api = client.get(f"/api/no/such/{'0' * 32}")
    assert api.status_code == 404 and api.is_json


@pytest.mark.parametrize("prefix, kind", [("agents", "agent"), ("automations", "automation")])
def test_agent_and_automation_tabs_scope_the_listing(client, prefix, kind):
    r = client.get(f"/{prefix}/sync%20inventory")
    assert r.status_code == 302
    assert r.headers["Location"] == f"/executions?kind={kind}&name=sync+inventory"


def test_templates_autoescape_settings_values(store, settings):
    hostile = replace(settings, base_url='https://x.example/"><script>alert(1)</script>')
    html = create_app(hostile, store, receiver=False).test_client().get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_static_assets_are_served_with_types(client):
    for path, mimetype in (("/static/js/common.js", "text/javascript"), ("/static/js/listing.js", "text/javascript"),
                           ("/static/js/detail.js", "text/javascript"), ("/static/css/viewer.css", "text/css")):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == mimetype, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_scripts_never_write_html_from_data():
    from importlib.resources import files

    for name in ("common.js", "listing.js", "detail.js"):
        text = files("execlog_otel.viewer").joinpath("static", "js", name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{name} uses {sink}"


def test_wsgi_entry_serves_the_viewer_without_receiver(store, settings, monkeypatch):
    import importlib

    from execlog_otel.viewer import wsgi

    app = wsgi.make_app(settings)
    client = app.test_client()
    assert client.get("/api/executions").status_code == 200
    assert client.get("/").status_code == 200
    assert not any(rule.rule == "/v1/traces" for rule in app.url_map.iter_rules())  # viewer only
    # The module-level entry: importing it connects to nothing; looking ``app`` up builds it from EXECLOG_*.
    monkeypatch.setenv("EXECLOG_CLICKHOUSE_URL", settings.clickhouse_url)
    monkeypatch.setenv("EXECLOG_DATABASE", store.database)
    monkeypatch.delitem(vars(wsgi), "app", raising=False)
    assert "app" not in vars(importlib.reload(wsgi))
    assert wsgi.app.test_client().get("/api/health").status_code == 200
    assert wsgi.app is wsgi.app  # built once
    vars(wsgi).pop("app")


def test_execlog_viewer_command_serves_a_store_read_only(tmp_path):
    """`execlog viewer` alone over a data directory another command filled: pages and API answer."""
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    data_dir = tmp_path / "data"
    exe = [sys.executable, "-m", "execlog_otel.cli"]
    filled = subprocess.run([*exe, "demo", "--data", str(data_dir), "--port", "0", "--exit"], capture_output=True,
                            text=True, timeout=120)
    assert filled.returncode == 0, filled.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    viewer = subprocess.Popen([*exe, "viewer", "--data", str(data_dir), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/executions", timeout=5) as r:
                    listing = json.load(r)
                break
            except OSError:
                assert viewer.poll() is None, viewer.stderr.read()
                assert time.monotonic() < deadline, "execlog viewer did not start"
                time.sleep(0.2)
        assert listing["count"] > 0 and listing["items"]
        with urllib.request.urlopen(f"{base}/executions/{listing['items'][0]['id']}", timeout=5) as r:
            assert r.status == 200 and "detail.js" in r.read().decode()
        with urllib.request.urlopen(f"{base}/api/info", timeout=5) as r:
            assert json.load(r)["receiver"] is False
    finally:
        viewer.terminate()
        viewer.wait(timeout=20)
