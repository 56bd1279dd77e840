"""End to end in headless Chromium (Debian's package, driven by Playwright): the listing and detail
pages do what the reference documents describe, against the real server over a real store.

One browser, one server and one data set per module (demo runs through OTLP plus the shapes in
``viewer_support``). Screenshots of each step go to the ``artifacts`` directory. A missing
browser fails these tests: they are the proof the viewer works.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import new_store, serving

from execlog_otel import demo
from execlog_otel.config import Settings
from viewer_support import XSS_NAME, SpanWriter, big_execution, finish_watcher, populate

pytestmark = pytest.mark.browser

TIME_ZONE = "Europe/Berlin"  # not the server's UTC: the listing must show the viewer's own zone
BIG_STEPS = 5_000
expect.set_options(timeout=10_000)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def viewer(ch_client, chdb_url):
    store = new_store(ch_client)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0)
    writer = SpanWriter(store)
    try:
        with serving(settings, store) as running:
            sent = demo.feed(running.url)
            data = populate(writer)
            data.ids_by_name["long-agent"] = big_execution(store, BIG_STEPS)
            expected = sent + len(data.ids_by_name)
            deadline = time.monotonic() + 30
            while get_json(f"{running.url}/api/executions?limit=1")["count"] < expected:
                assert time.monotonic() < deadline, "the demo executions never arrived"
                time.sleep(0.2)
            yield running.url, data, writer, expected
    finally:
        writer.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


@pytest.fixture
def page(browser, viewer, artifacts, request):
    url = viewer[0]
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=TIME_ZONE,
                                  permissions=["clipboard-read", "clipboard-write"])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.on("dialog", lambda d: (problems.append(f"unexpected dialog: {d.message}"), d.dismiss()))
    yield pg
    pg.screenshot(path=str(artifacts / f"viewer-{request.node.name}-end.png"), full_page=True)
    context.close()
    allowed = getattr(pg, "allowed_console", ())  # a test expecting an error response sets this
    assert [p for p in problems if not any(a in p for a in allowed)] == [], problems


def detail_url(url: str, execution_id: str, query: str = "") -> re.Pattern:
    """A detail page URL, whichever step it has selected (#step=...)."""
    return re.compile(re.escape(f"{url}/executions/{execution_id}{query}") + r"(#step=[0-9a-f]+)?$")


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"viewer-{name}.png"), full_page=True)


def row(page: Page, name: str):
    return page.locator("#rows tr.row").filter(has=page.locator(".name-link", has_text=name))


def names_on_page(page: Page) -> list[str]:
    return page.locator("#rows tr.row .name-link").all_text_contents()


def local_text(iso: str) -> str:
    """How the page shows a time: the viewer's zone, 24-hour clock."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(TIME_ZONE))
    return dt.strftime("%H:%M:%S")


def test_listing_shows_populated_columns_in_local_time(page, viewer, artifacts):
    url, data, _, expected = viewer
    page.goto(f"{url}/")
    expect(page.locator("#rows tr.row")).to_have_count(min(expected, 50))
    expect(page.locator("#count")).to_have_text(f"{expected} executions")
    headers = page.locator("thead th").all_text_contents()
    for column in ("Name", "Status", "Started At", "Duration", "Steps", "Connectors Used", "Tools Used",
                   "Total Tokens", "Model", "Actions"):
        assert any(h.strip().startswith(column) for h in headers), column
    order = row(page, "order-sync")
    expect(order.locator(".badge")).to_have_text("Failed")
    expect(order.locator(".status-why")).to_have_text("ERP answered 500 Internal Server Error")
    expect(order.locator(".c-connectors")).to_have_text("SAPShopify")
    expect(order.locator(".c-steps")).to_contain_text("1 failed")
    expect(order.locator(".c-steps")).to_contain_text("1 skipped")
    item = get_json(f"{url}/api/executions?ids={data.order_sync}")["items"][0]
    started = order.locator("time")
    expect(started).to_have_attribute("datetime", item["started_at"])
    assert item["started_at"] in started.get_attribute("title")
    expect(started).to_contain_text(local_text(item["started_at"]))
    billing = row(page, "billing-agent")
    expect(billing.locator(".attempts")).to_have_text("attempt 2 of 3")
    # Tokens count every attempt, as Cost does (120 in attempt 1, 300 + 45 in attempt 2): this asserted the
    # latest attempt's 345 while the Cost beside it counted both attempts (issue 14: one rule).
    expect(billing.locator(".c-tokens")).to_have_text("465")
    expect(billing.locator(".c-model")).to_have_text("gpt-4o")
    expect(billing.locator(".c-tools")).to_have_text("create_invoice")
    # Every status is a badge with its text, its own icon and its own shape, not a colour alone.
    looks = {}
    for status in ("Success", "Failed", "Partially Executed", "Running", "Queued", "Pending", "Paused", "Rejected"):
        badge = page.locator(f'#rows .badge[data-status="{status}"]').first
        expect(badge).to_have_text(status)
        icon = badge.locator(".badge-icon").evaluate("e => getComputedStyle(e, '::before').content")
        assert icon not in ("none", "normal", '""'), status
        looks[status] = icon
    assert len(set(looks.values())) == 8, looks
    shot(page, artifacts, "01-listing")


def test_switch_agents_automations_and_scope(page, viewer, artifacts):
    url = viewer[0]
    page.goto(f"{url}/")
    page.click('#kind-switch button[data-kind="agent"]')
    expect(page).to_have_url(f"{url}/?kind=agent")
    expect(row(page, "order-sync")).to_have_count(0)
    expect(row(page, "billing-agent")).to_have_count(1)
    assert set(page.locator("#rows .kind-label .scope-link").all_text_contents()) == {"agent"}
    shot(page, artifacts, "02-agents")
    page.click('#kind-switch button[data-kind="automation"]')
    expect(row(page, "billing-agent")).to_have_count(0)
    expect(row(page, "order-sync")).to_have_count(1)
    page.reload()
    expect(page.locator('#kind-switch button[data-kind="automation"]')).to_have_attribute("aria-pressed", "true")
    expect(row(page, "order-sync")).to_have_count(1)
    assert set(page.locator("#rows .kind-label .scope-link").all_text_contents()) == {"automation"}
    # One automation's own Executions tab.
    page.select_option("#scope-select", "order-sync")
    expect(page.locator("#rows tr.row")).to_have_count(1)
    expect(page.locator("#page-title")).to_have_text("order-sync")
    expect(page.locator("#scope-tab-executions")).to_be_visible()
    shot(page, artifacts, "03-scoped")
    page.goto(f"{url}/agents/billing-agent")
    expect(page.locator("#rows tr.row")).to_have_count(1)
    expect(page.locator("#page-title")).to_have_text("billing-agent")


def test_filter_by_status_and_date(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/")
    page.click("#status-filter summary")
    facets = get_json(f"{url}/api/facets")["status"]
    for status, n in facets.items():
        expect(page.locator(f'#status-filter .facet-count[data-facet="{status}"]')).to_have_text(str(n))
    page.check('#status-filter input[value="Failed"]')
    expect(page).to_have_url(f"{url}/?status=Failed")
    failed = get_json(f"{url}/api/executions?status=Failed&limit=200")["count"]
    expect(page.locator("#rows tr.row")).to_have_count(failed)
    expect(page.locator('#rows tr.row:not([data-status="Failed"])')).to_have_count(0)
    expect(row(page, "order-sync")).to_have_count(1)
    shot(page, artifacts, "04-status-failed")
    page.reload()  # filters live in the URL
    expect(page.locator("#status-summary")).to_have_text("Failed")
    expect(page.locator('#status-filter input[value="Failed"]')).to_be_checked()
    page.click("#status-filter summary")
    page.click("#status-clear")
    expect(page).to_have_url(f"{url}/")
    expect(row(page, "archive-job")).to_have_count(1)

    page.click('#date-presets button[data-range="24h"]')
    expect(page).to_have_url(f"{url}/?range=24h")
    expect(row(page, "order-sync")).to_have_count(1)
    expect(row(page, "archive-job")).to_have_count(0)
    page.click('#date-presets button[data-range="7d"]')
    expect(row(page, "archive-job")).to_have_count(1)
    page.click('#date-presets button[data-range="1h"]')
    expect(row(page, "archive-job")).to_have_count(0)
    # A custom range around the archive job, typed in the viewer's local time.
    page.click('#date-presets button[data-range="custom"]')
    zone = ZoneInfo(TIME_ZONE)
    now = datetime.now(UTC)
    page.fill("#range-from", (now - timedelta(days=4)).astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("#range-to", (now - timedelta(days=2)).astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#range-apply")
    expect(page.locator("#rows tr.row")).to_have_count(1)
    expect(row(page, "archive-job")).to_have_count(1)
    assert "range=custom" in page.url and "from=" in page.url
    shot(page, artifacts, "05-custom-range")


def test_search_by_request_id_and_execution_id(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/")
    page.fill("#search", "req-browser-42")
    expect(page.locator("#rows tr.row")).to_have_count(1)
    expect(row(page, "order-sync")).to_have_count(1)
    expect(page).to_have_url(f"{url}/?q=req-browser-42")
    shot(page, artifacts, "06-search-request-id")
    page.fill("#search", data.billing)
    expect(page.locator("#rows tr.row")).to_have_count(1)
    expect(row(page, "billing-agent")).to_have_count(1)
    page.fill("#search", "9001")  # target record id
    expect(row(page, "order-sync")).to_have_count(1)
    page.fill("#search", "no-such-thing-anywhere")
    expect(page.locator("#empty")).to_be_visible()


def test_sort_by_duration_and_started_at(page, viewer, artifacts):
    url = viewer[0]
    page.goto(f"{url}/?kind=automation")
    page.click("button.sort[data-sort='duration']")
    expect(page).to_have_url(f"{url}/?kind=automation&sort=duration")
    expect(page.locator("th[data-sort-col='duration']")).to_have_attribute("aria-sort", "descending")
    by_duration = [i["name"] for i in get_json(f"{url}/api/executions?kind=automation&sort=duration")["items"]]
    expect(page.locator("#rows tr.row .name-link")).to_have_text(by_duration)
    page.click("button.sort[data-sort='duration']")
    expect(page).to_have_url(f"{url}/?kind=automation&sort=duration&order=asc")
    ascending = [i["name"] for i in get_json(f"{url}/api/executions?kind=automation&sort=duration&order=asc")["items"]]
    expect(page.locator("#rows tr.row .name-link")).to_have_text(ascending)
    shot(page, artifacts, "06b-sorted-by-duration")
    page.click("button.sort[data-sort='started_at']")
    expect(page).to_have_url(f"{url}/?kind=automation")
    expect(page.locator("th[data-sort-col='started_at']")).to_have_attribute("aria-sort", "descending")


def test_bad_filter_in_the_url_says_what_is_wrong(page, viewer, artifacts):
    url = viewer[0]
    page.allowed_console = ("status of 400",)  # the API's answer to the bad filter
    page.goto(f"{url}/?status=Exploded")
    expect(page.locator("#error-banner")).to_contain_text("status='Exploded'")
    expect(page.locator("#count")).to_have_text("—")


def test_quick_view_keeps_its_buttons_in_place_as_executions_of_other_sizes_load(page, viewer):
    """Clicking "next" through the rows: each execution's input and output give the dialog another height,
    and its buttons must not move from under the pointer (a centred dialog moved them)."""
    url, _, _, _ = viewer
    order = [i["id"] for i in get_json(f"{url}/api/executions?limit=12")["items"]]
    page.goto(f"{url}/?limit=12")
    expect(page.locator("#rows tr.row")).to_have_count(len(order))
    page.locator("#rows tr.row").nth(0).locator(".act-quick").click()
    dialog = page.locator("#quick-view")
    heights, button_tops = set(), set()
    for index in range(len(order)):
        if index:
            page.click("#qv-next")
        expect(dialog).to_have_attribute("data-loaded", order[index])
        heights.add(round(dialog.bounding_box()["height"]))
        button_tops.add(round(page.locator("#qv-next").bounding_box()["y"]))
    assert len(heights) > 1, heights  # executions of other sizes were shown, else this proves nothing
    # (a pixel for the header's own line: a status badge is not as tall as the text beside it)
    assert max(button_tops) - min(button_tops) <= 2, (button_tops, heights)


def test_quick_view_moves_with_arrow_keys_across_pages(page, viewer, artifacts):
    url, data, _, _ = viewer
    order = [i["id"] for i in get_json(f"{url}/api/executions?limit=200")["items"]]
    page.goto(f"{url}/?limit=3")
    expect(page.locator("#rows tr.row")).to_have_count(3)
    page.locator("#rows tr.row").nth(0).locator(".act-quick").click()
    dialog = page.locator("#quick-view")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("data-loaded", order[0])
    for index in (1, 2, 3, 4):  # the fourth crosses into page 2
        page.keyboard.press("ArrowRight")
        expect(dialog).to_have_attribute("data-loaded", order[index])
    expect(page.locator("#page-label")).to_contain_text("Page 2")
    shot(page, artifacts, "07-quick-view-page-2")
    for index in (3, 2):  # and back into page 1
        page.keyboard.press("ArrowLeft")
        expect(dialog).to_have_attribute("data-loaded", order[index])
    expect(page.locator("#page-label")).to_contain_text("Page 1")
    page.click("#qv-next")
    expect(dialog).to_have_attribute("data-loaded", order[3])
    page.keyboard.press("Escape")
    # Metadata, input and output of the execution shown.
    page.goto(f"{url}/?q=req-browser-42")
    row(page, "order-sync").locator(".act-quick").click()
    expect(dialog).to_have_attribute("data-loaded", data.order_sync)
    expect(page.locator("#qv-title")).to_have_text("order-sync")
    expect(page.locator("#qv-meta")).to_contain_text("req-browser-42")
    expect(page.locator("#qv-meta")).to_contain_text("Target Record ID9001")
    expect(page.locator("#qv-input")).to_contain_text('"order": 9001')
    expect(page.locator("#qv-output")).to_contain_text('"synced": false')
    expect(page.locator("#qv-error")).to_have_text("ERP answered 500 Internal Server Error")
    problems = page.locator("#qv-problem-list li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_have_text("Failed Post to ERP — ERP answered 500 Internal Server Error")
    expect(problems.nth(1)).to_have_text("Skipped Notify Slack — previous step failed")
    shot(page, artifacts, "08-quick-view")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_copy_link_and_open_it(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/?q=order-sync")
    page.bring_to_front()  # the clipboard is the focused page's (two test workers share the browser's machine)
    row(page, "order-sync").locator(".act-copy").click()
    expect(page.locator("#toast")).to_have_text("Link copied")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == f"{url}/executions/{data.order_sync}"
    page.goto(link)
    expect(page.locator("#exec-name")).to_have_text("order-sync")
    expect(page.locator("#exec-status")).to_have_text("Failed")
    shot(page, artifacts, "09-permalink")


def test_a_clipboard_that_never_answers_still_gets_the_copy_an_answer(page, viewer):
    # The asynchronous clipboard's promise can stay pending (a page without focus): the copy falls back to
    # the selected-text copy instead of leaving the button without an answer.
    url, data, _, _ = viewer
    page.add_init_script("navigator.clipboard.writeText = () => new Promise(() => {});")
    page.goto(f"{url}/?q=order-sync")
    row(page, "order-sync").locator(".act-copy").click()
    expect(page.locator("#toast")).to_have_text(re.compile(r"^(Link copied|Copy failed: select the text and "
                                                           r"copy it by hand)$"))


def test_the_totals_arriving_after_the_rows_do_not_move_them(page, viewer):
    # A click aimed at a row must land on it: the totals above the listing and the names of the name filter
    # (their own requests, answered after the page's) keep their place while they load. They are held back here
    # until the rows are shown (a name select growing to fit the names wrapped the filters onto a second line).
    url, _, _, _ = viewer
    held = []
    page.route(re.compile(r"/api/(totals|names)\b"), lambda route: held.append(route))
    page.goto(f"{url}/?q=order-sync")
    link = row(page, "order-sync").locator(".name-link")
    expect(link).to_be_visible()
    expect(page.locator("#total-executions")).to_have_text("—")
    before = link.bounding_box()
    deadline = time.monotonic() + 20
    while len(held) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 2, "the listing asked for no totals or names"
    for route in held:
        route.continue_()
    expect(page.locator("#total-executions")).to_have_text("1")
    assert link.bounding_box() == before


def test_detail_failed_step_shows_error_input_and_output(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/?q=req-browser-42")
    row(page, "order-sync").locator(".act-view").click()
    expect(page).to_have_url(detail_url(url, data.order_sync, "?list=q%3Dreq-browser-42"))
    metrics = page.locator("#metrics")
    for label, value in (("Request ID", "req-browser-42"), ("Target Record ID", "9001"), ("Target", "Order"),
                         ("Event", "CREATE"), ("Triggered By", "grace@example.com"), ("Raised Action", "post-to-erp"),
                         ("Executed Action IDs", "fetch-order, post-to-erp"), ("Connectors Used", "SAP, Shopify"),
                         ("Validation Message", "ERP answered 500 Internal Server Error")):
        expect(metrics.locator(".metric").filter(has=page.locator("dt", has_text=label)).first).to_contain_text(value)
    expect(metrics).to_contain_text("Execution Time (ms)420")
    steps = page.locator("#wf-rows li.wf-row")
    expect(steps).to_have_count(4)
    expect(steps.nth(3)).to_contain_text("Skipped — previous step failed")
    # Select another step, then the failed one.
    steps.nth(1).click()
    expect(page.locator("#step-name")).to_have_text("Fetch order")
    expect(page.locator("#step-error")).to_be_hidden()
    page.locator('#wf-rows li.wf-row[data-status="Failed"]').click()
    expect(page.locator("#step-name")).to_have_text("Post to ERP")
    expect(page.locator("#step-error")).to_have_text("ERP answered 500 Internal Server Error")
    expect(page.locator("#step-input")).to_contain_text('"erp_order": 9001')
    expect(page.locator("#step-output")).to_contain_text('"http_status": 500')
    expect(page.locator("#step-meta")).to_contain_text("SAP")
    shot(page, artifacts, "10-detail-failed-step")
    page.locator("#step-panel .copy-json[data-copy='step-input']").click()
    assert json.loads(page.evaluate("navigator.clipboard.readText()")) == {"erp_order": 9001}
    # A trigger shows its input only.
    steps.nth(0).click()
    expect(page.locator("#step-input")).to_contain_text('"event": "order.created"')
    expect(page.locator("#step-output-section")).to_be_hidden()
    # Up / down move between steps.
    page.keyboard.press("ArrowDown")
    expect(page.locator("#step-name")).to_have_text("Fetch order")
    expect(page.locator("#exec-input")).to_contain_text('"lines": 3')
    expect(page.locator("#exec-output")).to_contain_text('"synced": false')
    page.locator(".io-section .copy-json[data-copy='input']").click()
    assert json.loads(page.evaluate("navigator.clipboard.readText()")) == {"order": 9001, "lines": 3}


def test_detail_keys_step_through_the_listing_it_came_from(page, viewer, artifacts):
    url = viewer[0]
    api_ids = [i["id"] for i in get_json(f"{url}/api/executions?kind=automation&limit=200")["items"]]
    page.goto(f"{url}/?kind=automation")
    expect(page.locator("#rows tr.row")).to_have_count(len(api_ids))
    ids = page.locator("#rows tr.row").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert ids == api_ids
    page.locator("#rows tr.row").nth(1).locator(".act-view").click()
    expect(page.locator("#detail")).to_have_attribute("data-loaded", ids[1])
    expect(page.locator("#next-exec")).to_be_enabled()
    neighbors = get_json(f"{url}/api/executions/{ids[1]}/neighbors?kind=automation")
    assert (neighbors["prev"]["id"], neighbors["next"]["id"]) == (ids[0], ids[2]), (ids[:4], neighbors)
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(detail_url(url, ids[2], "?list=kind%3Dautomation"))
    expect(page.locator("#prev-exec")).to_be_enabled()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(detail_url(url, ids[1], "?list=kind%3Dautomation"))
    expect(page.locator("#back-link")).to_have_attribute("href", "/executions?kind=automation")
    # The keys act once the page has loaded its neighbours (the buttons are enabled then).
    expect(page.locator("#prev-exec")).to_be_enabled()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(detail_url(url, ids[0], "?list=kind%3Dautomation"))
    expect(page.locator("#prev-exec")).to_be_disabled()


def test_attempt_selector_shows_each_attempt(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/executions/{data.billing}")
    expect(page.locator("#exec-status")).to_have_text("Success")
    expect(page.locator("#attempt-picker")).to_be_visible()
    expect(page.locator("#attempt-select option")).to_have_count(2)
    expect(page.locator("#metrics")).to_contain_text("Attempt2 of 3")
    page.select_option("#attempt-select", "1")
    expect(page.locator("#exec-status")).to_have_text("Failed")
    expect(page.locator("#step-error")).to_have_text("RateLimitError: quota exceeded")
    assert "?attempt=1" in page.url
    shot(page, artifacts, "11-attempt-1")


def test_live_row_updates_in_place(page, viewer, artifacts):
    url, data, writer, _ = viewer
    page.goto(f"{url}/?kind=automation&name=watcher")
    watcher = row(page, "watcher")
    expect(watcher.locator(".badge")).to_have_text("Running")
    expect(page.locator("#live-indicator")).to_be_visible()
    shot(page, artifacts, "12-live-running")
    page.evaluate("window.__samePage = 'yes'")
    finish_watcher(writer, data)
    expect(watcher.locator(".badge")).to_have_text("Success")
    expect(page.locator("#live-indicator")).to_be_hidden()
    assert page.evaluate("window.__samePage") == "yes", "the page reloaded"


def test_span_values_are_text_never_markup(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/?q=onerror")
    hostile = page.locator("#rows tr.row .name-link")
    expect(hostile).to_have_text(XSS_NAME)
    expect(page.locator("#rows img")).to_have_count(0)
    hostile.click()
    expect(page.locator("#exec-name")).to_have_text(XSS_NAME)
    page.locator("#wf-rows li.wf-row").first.click()
    expect(page.locator("#step-output")).to_contain_text("</pre><script>")
    expect(page.locator("#detail svg, #detail img, #detail script")).to_have_count(0)
    assert page.evaluate("window.__xss") is None


def test_truncated_payload_says_so_with_original_size(page, viewer, artifacts):
    url, data, _, _ = viewer
    page.goto(f"{url}/executions/{data.truncated}")
    expect(page.locator("#input-note")).to_contain_text("original size")
    expect(page.locator("#input-note")).to_contain_text("250,000 bytes")
    expect(page.locator("#wf-rows")).to_contain_text("Skipped — language is en")
    page.check("#only-problems")
    expect(page.locator("#wf-rows li.wf-row")).to_have_count(1)
    shot(page, artifacts, "13-truncated")


def test_execution_of_5000_steps_stays_usable(page, viewer, artifacts):
    url, data, _, _ = viewer
    eid = data.ids_by_name["long-agent"]
    started = time.monotonic()
    with urllib.request.urlopen(f"{url}/api/executions/{eid}", timeout=30) as r:
        size = len(r.read())
    print(f"\n5,000-step detail API: {time.monotonic() - started:.2f} s, {size / 1e6:.1f} MB of JSON")
    started = time.monotonic()
    page.goto(f"{url}/executions/{eid}")
    expect(page.locator("#detail")).to_have_attribute("data-loaded", eid, timeout=30_000)
    loaded_s = time.monotonic() - started
    print(f"\n5,000-step detail page: loaded and rendered in {loaded_s:.2f} s")
    expect(page.locator("#steps-count")).to_contain_text("5,000 steps")
    expect(page.locator("#wf-rows li.wf-row")).to_have_count(200)  # paginated, not 5,000 rows
    expect(page.locator("#steps-page-label")).to_have_text("1–200 of 5,000")
    # It opened on the first failed step; its error is shown.
    expect(page.locator("#step-name")).to_have_text("turn 50")
    expect(page.locator("#step-error")).to_have_text("turn 50 failed")
    page.click("#steps-next")
    expect(page.locator("#steps-page-label")).to_have_text("201–400 of 5,000")
    # Nested steps fold: collapsing every turn leaves the 2,500 turns.
    page.click("#collapse-all")
    expect(page.locator("#steps-page-label")).to_have_text("1–200 of 2,500")
    first_turn = page.locator("#wf-rows li.wf-row").first
    first_turn.locator(".wf-toggle").click()
    expect(page.locator("#steps-page-label")).to_have_text("1–200 of 2,501")
    expect(page.locator("#wf-rows li.wf-row").nth(1)).to_contain_text("chat 1")
    page.click("#collapse-all")  # now "Expand all"
    expect(page.locator("#steps-page-label")).to_have_text("1–200 of 5,000")
    page.check("#only-problems")
    expect(page.locator("#wf-rows li.wf-row")).to_have_count(50)
    expect(page.locator("#wf-rows li.wf-row").first).to_contain_text("turn 50 failed")
    shot(page, artifacts, "14-5000-steps")


def test_new_executions_are_announced_and_keys_move_through_rows(page, viewer, artifacts):
    url, _, writer, _ = viewer
    page.goto(f"{url}/?kind=agent")
    expect(page.locator("#new-rows")).to_be_hidden()
    first = page.locator("#rows tr.row .name-link").first.text_content()
    # Runs last in this module: the new execution changes the counts the tests above check.
    writer.execution("fresh-agent", "agent", "Success", start_ns=time.time_ns(), duration_ms=5)
    expect(page.locator("#new-rows")).to_have_text("1 new execution · show", timeout=15_000)
    expect(page.locator("#rows tr.row .name-link").first).to_have_text(first)  # nothing moved under the reader
    page.click("#new-rows")
    expect(page.locator("#rows tr.row .name-link").first).to_have_text("fresh-agent")
    # Keys: j / k move a row cursor, q opens Quick View on it, Enter opens the execution.
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("#rows tr.cursor")).to_have_attribute("data-index", "1")
    page.keyboard.press("k")
    expect(page.locator("#rows tr.cursor")).to_have_attribute("data-index", "0")
    page.keyboard.press("q")
    expect(page.locator("#qv-title")).to_have_text("fresh-agent")
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    second = page.locator("#rows tr.row").nth(1).get_attribute("data-id")
    page.keyboard.press("Enter")
    expect(page.locator("#detail")).to_have_attribute("data-loaded", second)
    # Page size.
    page.goto(f"{url}/")
    page.select_option("#page-size", "25")
    expect(page).to_have_url(f"{url}/?limit=25")
