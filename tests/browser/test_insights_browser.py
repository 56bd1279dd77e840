"""The Insights page in real Chromium: charts drawn by the vendored library under the strict CSP,
readable at 800 px, numbers as a table, and a click on a bar opens the listing filtered to it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.conftest import new_store

import sql_fixture_data as fx
from execlog_otel import server as server_mod
from execlog_otel.config import Settings

CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture(scope="module")
def insights_viewer(ch_client, chdb_url):
    store = new_store(ch_client)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    running = server_mod.start(settings, store=store).start_background()
    try:
        fx.load(store)
        yield running.url
    finally:
        running.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def open_page(browser, url: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, timezone_id="UTC")
    pg = context.new_page()
    pg.add_init_script(CSP_PROBE)
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.goto(f"{url}/insights?range=30d")
    expect(pg.locator("body")).to_have_attribute("data-insights", "ready", timeout=20_000)
    return context, pg, problems


def test_charts_are_drawn_under_the_csp_and_a_bar_opens_the_filtered_listing(browser, insights_viewer, artifacts):
    context, pg, problems = open_page(browser, insights_viewer, 1440)
    try:
        cards = pg.locator(".insight-card")
        expect(cards).to_have_count(10)
        drawn = pg.eval_on_selector_all(".insight-card", "els => els.map(e => [e.dataset.chart, e.dataset.state])")
        assert all(state == "drawn" for _, state in drawn), drawn
        # Every chart painted something on its canvas (non-transparent pixels).
        painted = pg.evaluate("""() => Object.entries(window.execlogCharts).map(([id, c]) => {
            const d = c.ctx.getImageData(0, 0, c.canvas.width, c.canvas.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return [id, n]; })""")
        assert len(painted) == 10 and all(n > 500 for _, n in painted), painted
        # The numbers behind a chart, as a table.
        card = pg.locator('[data-chart="top_failing"]')
        card.locator("summary").click()
        expect(card.locator("tbody tr")).to_have_count(3)
        expect(card.locator("tbody tr").first).to_contain_text("sync-crm")
        assert card.locator(".insight-csv").get_attribute("href").endswith("format=csv")
        pg.screenshot(path=str(artifacts / "insights-1440.png"), full_page=True)
        assert pg.evaluate("window.__csp") == []
        # Click the first bar (sync-crm, 2 failed executions): the listing, filtered to it.
        x, y = pg.evaluate("""() => {
            const c = window.execlogCharts.top_failing, bar = c.getDatasetMeta(0).data[0];
            const r = c.canvas.getBoundingClientRect();
            return [r.left + (bar.x + bar.base) / 2, r.top + bar.y]; }""")
        pg.mouse.click(x, y)
        pg.wait_for_url(re.compile(r"/executions\?"))
        assert "name=sync-crm" in pg.url and "status=Failed%2CRejected" in pg.url and "kind=automation" in pg.url
        rows = pg.locator("#rows tr[data-id]")
        expect(rows).to_have_count(2, timeout=10_000)
        assert problems == [] and pg.evaluate("window.__csp") == []
    finally:
        context.close()


def test_readable_at_800_px(browser, insights_viewer, artifacts):
    context, pg, problems = open_page(browser, insights_viewer, 800)
    try:
        assert pg.evaluate("document.documentElement.scrollWidth") <= 800
        widths = pg.eval_on_selector_all(".insight-card canvas", "els => els.map(e => e.getBoundingClientRect().width)")
        assert len(widths) == 10 and all(300 <= w <= 800 for w in widths), widths
        # A time-series bar opens the listing for its interval and status.
        x, y = pg.evaluate("""() => {
            const c = window.execlogCharts.status_over_time;
            c.canvas.scrollIntoView();
            const meta = c.getDatasetMeta(0), bar = meta.data.find((b) => b.height > 0);
            const r = c.canvas.getBoundingClientRect();
            return [r.left + bar.x, r.top + bar.y + bar.height / 2]; }""")
        pg.screenshot(path=str(artifacts / "insights-800.png"), full_page=True)
        pg.mouse.click(x, y)
        pg.wait_for_url(re.compile(r"/executions\?"))
        assert "range=custom" in pg.url and "from=" in pg.url and "status=" in pg.url
        assert problems == [] and pg.evaluate("window.__csp") == []
    finally:
        context.close()
