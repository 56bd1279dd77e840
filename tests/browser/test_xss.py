"""In a real headless Chromium: hostile span attributes stay text on every page, and no injected script runs.

Each payload (``tests.hostile_data``) would set its own ``window.__pwned_*`` sentinel; the page traps them,
``alert``/``confirm``/``prompt``, and Content-Security-Policy violations (markup that reached the DOM and was
only stopped by the CSP counts as a failure too: escaping must hold on its own)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from tests.conftest import serving
from tests.hostile_data import IMG, JSON_BREAK, SCRIPT, SENTINELS, write_hostile_executions
from tests.reliability_support import http

pytestmark = pytest.mark.browser


TRAPS = """
window.__xss = [];
for (const name of SENTINELS_JSON) {
  Object.defineProperty(window, name, {configurable: false, get() { return undefined; },
                                       set(v) { window.__xss.push('ran:' + name); }});
}
for (const fn of ['alert', 'confirm', 'prompt']) {
  window[fn] = (...args) => { window.__xss.push(fn + ':' + args.join(' ')); };
}
document.addEventListener('securitypolicyviolation',
  (e) => window.__xss.push('csp:' + e.violatedDirective + ':' + e.blockedURI + ':' + (e.sample || '')));
""".replace("SENTINELS_JSON", json.dumps(list(SENTINELS)))


@pytest.fixture
def hostile_server(store, settings):
    ids = write_hostile_executions(store)
    with serving(settings, store) as running:
        yield running, ids


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.add_init_script(TRAPS)
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def assert_inert(page, where: str) -> None:
    page.wait_for_timeout(150)  # let late handlers (onerror of a broken image) fire, if any were injected
    hits = page.evaluate("window.__xss")
    assert hits == [] and page.dialogs == [], f"{where}: {hits} {page.dialogs}"
    injected = page.evaluate("""() => ({
        img: document.querySelectorAll('img[src="x"], img[onerror]').length,
        svg: [...document.querySelectorAll('svg')].filter(s => s.getAttribute('onload')).length,
        scripts: [...document.scripts].filter(s => !s.src).map(s => s.textContent.slice(0, 80)),
        handlers: [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
                    .filter(a => a.name.startsWith('on')).map(a => el.tagName + '[' + a.name + ']')),
        jsLinks: [...document.querySelectorAll('a[href], area[href], iframe[src], form[action]')]
                    .map(el => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action'))
                    .filter(h => /^\\s*javascript:/i.test(h)),
    })""")
    assert injected == {"img": 0, "svg": 0, "scripts": [], "handlers": [], "jsLinks": []}, f"{where}: {injected}"


def test_no_injected_script_runs_anywhere(hostile_server, page):
    running, ids = hostile_server
    base = running.url
    # Listing: names, statuses, tools, models, connectors of hostile executions.
    page.goto(base + "/")
    page.locator("#rows tr.row").nth(1).wait_for(timeout=20000)  # (wait_for_function would need unsafe-eval)
    listing_text = page.inner_text("#rows")
    assert SCRIPT in listing_text  # shown as text, verbatim
    assert_inert(page, "listing")
    # Quick view of every row: metadata and the JSON viewer for input/output.
    for i in range(page.locator("#rows tr.row").count()):
        row = page.locator("#rows tr.row").nth(i)
        row.hover()
        row.locator(".act-quick").click()
        page.wait_for_selector("#quick-view[data-loaded]", timeout=20000)
        assert JSON_BREAK in page.inner_text("#qv-output") or JSON_BREAK in page.inner_text("#qv-input")
        assert_inert(page, f"quick view {i}")
        page.keyboard.press("Escape")
        page.evaluate("delete document.querySelector('#quick-view').dataset.loaded")
    # Detail of each execution: header, metrics, waterfall, every step's panel (JSON viewer), code panels.
    for eid in ids:
        page.goto(f"{base}/executions/{eid}")
        page.locator("#wf-rows li").nth(2).wait_for(timeout=20000)
        assert_inert(page, f"detail {eid}")
        assert SCRIPT in page.inner_text("body") or IMG in page.inner_text("body")
        for j in range(page.locator("#wf-rows li").count()):
            page.locator("#wf-rows li").nth(j).click()
            page.wait_for_selector("#step-detail:not([hidden])", timeout=10000)
            assert_inert(page, f"detail {eid} step {j}")
        assert JSON_BREAK in page.inner_text("#step-panel")
        # Raw JSON of the API opened directly in the browser.
        page.goto(f"{base}/api/executions/{eid}")
        assert_inert(page, f"api json {eid}")
        # Code view and the downloaded file (if this build offers them): served inert.
        for path in (f"/executions/{eid}/code", f"/api/executions/{eid}/code"):
            status, headers, body = http("GET", base + path)
            if status == 404 and path not in {r.rule.replace("<execution_id>", eid)
                                              for r in running._server.application.url_map.iter_rules()}:
                continue
            assert status == 200, (path, status, body[:200])
            headers = {k.lower(): v for k, v in headers.items()}
            assert headers.get("x-content-type-options") == "nosniff"
            assert not headers.get("content-type", "").startswith("text/html"), path
            disposition = headers.get("content-disposition", "")
            assert not re.search(r"[<>\"\r\n]", disposition.split("filename=", 1)[-1].strip('"')), disposition
            if path.startswith("/executions/"):
                try:
                    page.goto(base + path)
                except Exception:  # noqa: BLE001 - a download, not a page: nothing renders, nothing runs
                    pass
                else:
                    assert_inert(page, f"code {eid}")
    # A search for a payload renders its own echo inertly too.
    page.goto(f"{base}/?q={quote(SCRIPT)}")
    page.wait_for_timeout(500)
    assert_inert(page, "search")


def test_the_traps_catch_markup_that_reaches_the_dom(hostile_server, page):
    """Control: if a view ever inserted a payload as HTML, ``assert_inert`` would fail."""
    running, _ = hostile_server
    page.goto(running.url + "/")
    page.locator("#rows tr.row").nth(1).wait_for(timeout=20000)
    page.evaluate("(html) => document.body.insertAdjacentHTML('beforeend', html)", IMG)
    with pytest.raises(AssertionError, match="csp:|img"):
        assert_inert(page, "control")
