"""Retry in headless Chromium, against a real runner process and the real server.

- Use Case 1: Retry Execution in a failed row's Info pop-up turns it into Success, "attempt 2 of 3".
- Limitation 1: the Response-connector row offers no Retry and says why.
- Bulk: selecting rows and "Retry selected…" previews who will and will not be retried, then retries.
- Limitation 2: on the detail page, after the last retry the Retry Execution button is gone and the page
  says the limit is reached.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.retry_support import SECRET, Runner, Viewer

from execlog_otel.config import Settings

pytestmark = pytest.mark.browser

expect.set_options(timeout=30_000)


@pytest.fixture
def settings(store, chdb_url):
    return Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0,
                             retry_secret=SECRET)


@pytest.fixture
def runner(server, tmp_path):
    r = Runner(server.url, tmp_path)
    yield r
    r.stop()


def test_retry_from_the_listing_and_the_detail_page(browser, server, runner, artifacts):
    viewer = Viewer(server.url)
    flaky, _ = runner.run("flaky-sync", {"order_id": 1})
    stubborn, _ = runner.run("always-fails", {"order_id": 2})
    responder, _ = runner.run("answers-caller", {"order_id": 3})
    for eid in (flaky, stubborn, responder):
        viewer.wait_row(eid, status="Failed")

    page = browser.new_page(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{server.url}/")

    def row(eid):
        return page.locator(f'#rows tr.row[data-id="{eid}"]')

    # Limitation 1: no Retry on the Response-connector execution, and the reason is shown.
    expect(row(responder).locator(".retry-why")).to_have_text("Not retryable")
    expect(row(responder).locator(".act-retry")).to_have_count(0)
    row(responder).locator(".status-info").click()  # the Info icon beside Failed: the whole reason
    expect(page.locator("#status-pop .retry-reason")).to_contain_text("Response connector")
    expect(page.locator("#status-pop .act-retry")).to_have_count(0)
    page.keyboard.press("Escape")
    row(responder).locator(".act-quick").click()  # the reference's pop-up says it too
    expect(page.locator("#quick-view .retry-qv .retry-why")).to_have_text("Not retryable")
    page.keyboard.press("Escape")

    # Use Case 1: Retry turns the failed row into Success, attempt 2 of 3.
    expect(row(flaky).locator(".retry-left")).to_have_text("2 retries left")
    expect(row(flaky).locator(".badge-text")).to_have_text("Failed")
    row(flaky).locator(".status-info").click()
    page.locator("#status-pop .act-retry").click()
    expect(row(flaky).locator(".badge-text")).to_have_text("Success")
    expect(row(flaky).locator(".attempts")).to_have_text("attempt 2 of 3")
    expect(row(flaky).locator(".act-retry")).to_have_count(0)
    expect(row(flaky).locator(".c-steps .failed")).to_have_count(0)  # the whole row shows attempt 2
    page.screenshot(path=str(artifacts / "retry-listing-success.png"))

    # Bulk: select two rows, preview (one will, one will not, with the reason), confirm.
    row(stubborn).locator("input.select-execution").check()
    row(responder).locator("input.select-execution").check()
    page.locator(".selection-bar .retry-selected").click()
    dialog = page.locator("dialog.retry-dialog")
    expect(dialog.locator("li.will-retry")).to_have_count(1)
    expect(dialog.locator(f'li.will-retry[data-id="{stubborn}"]')).to_contain_text("attempt 2 of 3")
    expect(dialog.locator(f'li.will-not-retry[data-id="{responder}"]')).to_contain_text("Response connector")
    page.screenshot(path=str(artifacts / "retry-bulk-preview.png"))
    dialog.locator(".retry-confirm").click()
    expect(dialog.locator(".retry-summary")).to_contain_text("1 retry started")
    dialog.locator(".retry-cancel").click()
    expect(row(stubborn).locator(".attempts")).to_have_text("attempt 2 of 3")
    expect(row(stubborn).locator(".retry-left")).to_have_text("1 retry left")

    # Detail page: Retry Execution for the last attempt, then the affordance disappears (Limitation 2).
    page.goto(f"{server.url}/executions/{stubborn}")
    slot = page.locator('#detail [data-slot="retry"]')
    expect(slot.locator(".retry-left")).to_have_text("Attempt 2 of 3 · 1 retry left")
    slot.locator(".act-retry").click()
    expect(page.locator("#attempt-select option")).to_have_count(3)
    expect(slot.locator(".retry-why")).to_have_text("Retry limit reached")
    expect(slot.locator(".retry-reason")).to_contain_text("Start a new execution")
    expect(slot.locator(".act-retry")).to_have_count(0)
    page.screenshot(path=str(artifacts / "retry-detail-limit.png"))
    assert runner.calls("always-fails") == 3
    assert errors == []
    viewer.http.clear()
