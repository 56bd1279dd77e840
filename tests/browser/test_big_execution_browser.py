"""An execution of 100,000 nested steps with payloads in headless Chromium: it opens with its header and
first screen of the waterfall, scrolls to its last step without loading every step (the waterfall is
virtualised and reads pages), unfolds a folded step from its subtree, jumps to a searched match and to
a failure from the mini-map. Generated inside ClickHouse in the test's own database. First paint and
the time to the first rows are printed (reported, not asserted)."""

from __future__ import annotations

import time

import pytest
from benchmarks import big_execution
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)

STEPS = 100_000


@pytest.fixture(scope="module")
def big_site(ch_client, chdb_url):
    from tests.conftest import new_store

    from execlog_otel import server as server_mod
    from execlog_otel.config import Settings

    store = new_store(ch_client)
    big = big_execution.generate(store, STEPS, "e5" * 16, time.time_ns() - 3_600 * 10**9)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    running = server_mod.start(settings, store=store).start_background()
    try:
        yield running.url, big
    finally:
        running.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def test_a_100k_step_execution_opens_scrolls_and_finds(page, big_site, artifacts):
    url, big = big_site
    step_requests: list[str] = []
    page.on("request", lambda r: step_requests.append(r.url) if "/steps" in r.url else None)
    t0 = time.perf_counter()
    page.goto(f"{url}/executions/{big.execution_id}")
    rows = page.locator("#wf-rows li.wf-row[data-span-id]")
    expect(rows.first).to_be_visible()
    shown_s = time.perf_counter() - t0
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    print(f"\n100,000-step detail: first contentful paint {paint} ms; first rows after {shown_s * 1000:.0f} ms")
    expect(page.locator("#metrics")).to_contain_text("100,000")
    expect(page.locator("#steps-count")).to_contain_text("100,000 steps")
    expect(page.locator("#step-name")).to_have_text("batch 0")
    # Only the rows on screen exist, whatever the size.
    assert rows.count() < 100
    page.screenshot(path=str(artifacts / "big-execution-top.png"))

    # Scroll to the very end: the last step is there, read by a page near the end (not every page).
    page.locator("#wf-rows").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    last = page.locator(f'#wf-rows li.wf-row[data-position="{STEPS - 1}"]')
    expect(last).to_be_visible()
    expect(last).to_contain_text("Success")
    offsets = [u for u in step_requests if "offset=" in u]
    assert offsets and len(offsets) <= 3, offsets  # a page or two near the end: nothing in between
    last.click()
    expect(page.locator("#step-input")).to_contain_text(f'"record": {STEPS}')

    # Search: the server answers the position; the page jumps there and selects it.
    page.locator("#step-search").fill("record number 54321")
    expect(page.locator("#step-search-count")).to_have_text("1 of 1")
    match = page.locator('#wf-rows li.wf-row[data-position="54320"]')
    expect(match).to_be_visible()
    expect(page.locator("#step-input")).to_contain_text('"record": 54321')
    assert "selected" in (match.get_attribute("class") or "")
    match_id = match.get_attribute("data-span-id")

    # The mini-map (server-side overview) shows the failures and the slowest step; a mark jumps to it.
    expect(page.locator("#minimap .mm-fail")).to_have_count(big.failed)
    expect(page.locator("#minimap .mm-legend")).to_contain_text(f"{big.failed} failed")
    page.locator(f'#minimap .mm-slow[data-position="{big.slow_step - 1}"]').click()
    expect(page.locator(f'#wf-rows li.wf-row.selected[data-position="{big.slow_step - 1}"]')).to_be_visible()
    expect(page.locator("#step-meta")).to_contain_text("40")

    # Fold a batch (its 999 steps disappear), unfold it (its subtree is read under it).
    page.locator("#wf-rows").evaluate("el => { el.scrollTop = 0; }")
    batch = page.locator('#wf-rows li.wf-row[data-position="0"]')
    batch.locator(".wf-toggle").click()
    expect(page.locator('#wf-rows li.wf-row[data-position="1000"]')).to_be_visible()
    expect(page.locator('#wf-rows li.wf-row[data-position="1"]')).to_have_count(0)
    page.locator('#wf-rows li.wf-row[data-position="0"] .wf-toggle').click()
    expect(page.locator('#wf-rows li.wf-row[data-position="1"]')).to_be_visible()
    assert any("parent=" in u for u in step_requests)
    page.screenshot(path=str(artifacts / "big-execution-folded.png"))

    # A step's permalink opens the big execution on that step.
    linked = page.locator('#wf-rows li.wf-row[data-position="54320"]')
    page.goto("about:blank")
    page.goto(f"{url}/executions/{big.execution_id}#step={match_id}")
    expect(page.locator('#wf-rows li.wf-row.selected[data-position="54320"]')).to_be_visible()
    expect(page.locator("#step-input")).to_contain_text('"record": 54321')
    assert linked.count() == 1
