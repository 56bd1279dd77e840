"""What a first-time user stumbled on (issue 18, items 3-9, 11, 12), checked in headless Chromium
against the real server, the demo's executions (its retry listener running, as `execlog demo` does)
and one long execution; plus the visual pass over every page at 1440 px and 800 px, light and dark.

Screenshots go to test-artifacts/ (``visual-<page>-<width>-<scheme>.png``).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import new_store
from tests.retry_support import SECRET

from execlog_otel import demo
from execlog_otel import semconv as sc
from execlog_otel import server as server_mod
from execlog_otel.config import Settings
from viewer_support import SpanWriter, StepSpec, big_execution

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)

BIG_STEPS = 2_000  # 1,000 turns with a chat each; every 50th turn failed
LONG_S = 97  # a run of 1 m 37 s: the axis labels of the issue ("1 m 13 s1 m 37 s")
WIDTHS = (1440, 800)
SCHEMES = ("light", "dark")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


@pytest.fixture(scope="module")
def site(ch_client, chdb_url):
    store = new_store(ch_client)
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0,
                                 retry_secret=SECRET)
    running = server_mod.start(settings, store=store).start_background()
    writer = SpanWriter(store)
    try:
        sent = demo.feed(running.url, retry_secret=SECRET)
        start = time.time_ns() - 3600 * 10**9
        steps = [StepSpec("Webhook received", kind="trigger", offset_ms=0, duration_ms=40),
                 StepSpec("Transform rows", kind="action", offset_ms=50, duration_ms=70_000),
                 StepSpec("Load warehouse", kind="connector", offset_ms=70_100, duration_ms=26_800,
                          attrs={sc.CONNECTOR: "BigQuery"})]
        long_id, _ = writer.execution("long-import", start_ns=start, duration_ms=LONG_S * 1000, steps=steps)
        ids = {"long-import": long_id, "long-agent": big_execution(store, BIG_STEPS)}
        deadline = time.monotonic() + 60
        while True:
            items = get_json(f"{running.url}/api/executions?limit=200")["items"]
            if len(items) >= sent + 2:
                break
            assert time.monotonic() < deadline, "the demo executions never arrived"
            time.sleep(0.2)
        for it in items:
            ids.setdefault(f"{it['name']}:{it['status']}", it["id"])
        yield running.url, ids
    finally:
        writer.close()
        demo.stop()
        running.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def new_page(browser, width: int = 1440, scheme: str = "light", height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    pg = context.new_page()
    pg.problems = []
    pg.on("pageerror", lambda exc: pg.problems.append(f"page error: {exc}"))
    return pg


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    pg.context.close()
    assert pg.problems == []


def row(page: Page, execution_id: str):
    return page.locator(f'#rows tr.row[data-id="{execution_id}"]')


def boxes_overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] - 0.5 and b["x"] < a["x"] + a["width"] - 0.5 \
        and a["y"] < b["y"] + b["height"] - 0.5 and b["y"] < a["y"] + a["height"] - 0.5


# Elements whose text must show whole: a status, a refusal, a button's label, a heading, a column title.
CLIPPED_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((e) => e.offsetParent !== null && e.getClientRects().length)
  .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
  .map((e) => `${e.className}: ${e.textContent.trim().slice(0, 60)}`)"""
OFFSCREEN_JS = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter((e) => !e.closest('.visually-hidden, .offscreen, dialog:not([open]), [popover]:not(:popover-open)'))
  .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > innerWidth + 1; })
  .filter((e) => !e.parentElement.closest('pre, .table-wrap, .wf-rows, .code-block'))
  .map((e) => `${e.tagName}.${e.className}`)"""
WHOLE_TEXT = ".badge, .retry-why, .retry-left, h1, .executions th, .metric dt, .icon-act, .head-actions button"


# --- item 3: 800 px and compact rows -------------------------------------------------------------------

def test_listing_fits_800_px_with_compact_rows_and_whole_refusals(browser, site, artifacts):
    url, ids = site
    for width in WIDTHS:
        pg = new_page(browser, width)
        pg.goto(f"{url}/")
        expect(row(pg, ids["route-ticket:Failed"]).locator(".retry-why")).to_have_text("Trigger changed")
        rows = pg.locator("#rows tr.row")
        pg.screenshot(path=str(artifacts / f"ux-listing-{width}.png"), full_page=True)
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        assert pg.evaluate(OFFSCREEN_JS) == []
        for cell in (".c-tools", ".c-tokens", ".c-model", ".c-actions"):
            box = rows.first.locator(cell).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, cell, box)
        # One line of icon actions: a row is at most three text lines high (status, attempt, failure); at
        # 800 px the used-by cells (steps, connectors, tools, tokens, cost, model) add a line or two.
        heights = [rows.nth(i).bounding_box()["height"] for i in range(rows.count())]
        assert max(heights) <= (120 if width == 800 else 70), (width, max(heights))
        assert pg.evaluate(CLIPPED_JS, ".retry-why, .retry-left, .badge, .icon-act") == []
        pg.context.close()
        assert pg.problems == []


def test_row_actions_are_icons_with_labels_reachable_by_keyboard(page, site):
    url, ids = site
    page.goto(f"{url}/")
    target = row(page, ids["sync-inventory:Success"])
    target.locator(".name-link").focus()
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        reached.append(label)
        if label == "Quick View":
            break
    assert reached[-1] == "Quick View", reached
    assert {"View execution", "Copy link"} <= set(reached)
    # The label shows while the icon has keyboard focus.
    after = page.evaluate("getComputedStyle(document.activeElement, '::after').content")
    assert after == '"Quick View"'
    page.keyboard.press("Enter")
    expect(page.locator("#quick-view")).to_be_visible()
    expect(page.locator("#qv-title")).to_have_text("sync-inventory")


# --- items 4 and 5: the Info pop-up beside a Failed status; listing and detail agree --------------------

def test_info_icon_beside_failed_status_opens_the_failure_and_retry_execution(page, site, artifacts):
    url, ids = site
    page.goto(f"{url}/")
    flaky = row(page, ids["flaky-webhook:Failed"])
    info = flaky.locator(".status-line .status-info")
    expect(info).to_be_visible()
    expect(flaky.locator(".retry-left")).to_have_text("2 retries left")
    badge, icon = flaky.locator(".status-line .badge").bounding_box(), info.bounding_box()
    assert abs(badge["y"] + badge["height"] / 2 - (icon["y"] + icon["height"] / 2)) < 4  # beside it
    assert 0 <= icon["x"] - (badge["x"] + badge["width"]) < 16
    info.click()
    pop = page.locator("#status-pop")
    expect(pop).to_be_visible()
    expect(pop.locator(".pop-failure")).to_contain_text("UNABLE_TO_LOCK_ROW")
    expect(pop.locator(".pop-steps")).to_contain_text("Upsert contact")
    expect(pop.locator(".act-retry")).to_have_text("Retry Execution")
    expect(pop.locator(".retry-left")).to_have_text("Attempt 1 of 3 · 2 retries left")
    page.screenshot(path=str(artifacts / "ux-info-popup.png"))
    spot, near = pop.bounding_box(), info.bounding_box()  # opened at the icon, below or above it
    assert abs(spot["x"] - near["x"]) < 40 and (spot["y"] >= near["y"] + near["height"] - 1
                                                 or spot["y"] + spot["height"] <= near["y"] + 1), (spot, near)
    pop.locator(".act-retry").click()
    expect(pop).to_be_hidden()
    expect(flaky.locator(".badge-text").first).to_have_text("Success")
    expect(flaky.locator(".attempts")).to_have_text("attempt 2 of 3")
    expect(flaky.locator(".status-info")).to_have_count(0)
    # The retry limit reached: no Info icon (as in the reference), and the row says why, whole.
    spent = row(page, ids["renew-certificate:Failed"])
    expect(spent.locator(".retry-why")).to_have_text("Retry limit reached")
    expect(spent.locator(".status-info")).to_have_count(0)


def test_listing_and_detail_agree_on_a_trigger_changed_execution(page, site):
    url, ids = site
    eid = ids["route-ticket:Failed"]
    page.goto(f"{url}/")
    ticket = row(page, eid)
    expect(ticket.locator(".retry-why")).to_have_text("Trigger changed")
    expect(ticket.locator(".retry-left")).to_have_count(0)
    ticket.locator(".status-info").click()
    pop = page.locator("#status-pop")
    expect(pop.locator(".retry-why")).to_have_text("Trigger changed")
    expect(pop.locator(".retry-reason")).to_contain_text("trigger")
    expect(pop.locator(".act-retry")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(pop).to_be_hidden()
    page.goto(f"{url}/executions/{eid}")
    slot = page.locator('#detail [data-slot="retry"]')
    expect(slot.locator(".retry-why")).to_have_text("Trigger changed")
    expect(slot.locator(".act-retry")).to_have_count(0)


# --- item 6: a running execution ------------------------------------------------------------------------

def test_running_execution_says_code_comes_when_it_ends_and_offers_no_download(page, site):
    url, ids = site
    page.goto(f"{url}/executions/{ids['migrate-customers:Running']}")
    panel = page.locator('#detail [data-slot="execution-code"]')
    expect(panel).to_contain_text("ready when it ends")
    expect(panel).not_to_contain_text("No source code was recorded")
    expect(page.locator("#detail a[download]")).to_have_count(0)
    expect(page.locator('#detail [data-slot="download-code"] button')).to_be_disabled()
    page.goto(f"{url}/")
    expect(row(page, ids["migrate-customers:Running"]).locator(".act-download")).to_be_disabled()


# --- item 7: bad URLs --------------------------------------------------------------------------------------

def test_bad_urls_get_a_clear_answer(page, site):
    url, _ = site
    for path, text in ((f"/executions/{'0' * 32}", "No execution"), ("/executions/doesnotexist", "not an execution id"),
                       ("/no/such/page", "Not Found")):
        response = page.goto(f"{url}{path}")
        assert response.status == 404, path
        box = page.locator(".error-box")
        expect(box).to_contain_text(text, ignore_case=True)
        # Styled like the rest of the viewer: the top bar and the way back to the listing.
        expect(page.locator(".topbar")).to_be_visible()
        assert page.evaluate("getComputedStyle(document.querySelector('.error-box')).borderTopStyle") == "solid"
        expect(box.get_by_role("link", name="Execution Log")).to_be_visible()
    page.goto(f"{url}/?from=garbage")
    expect(page.locator("#error-banner")).to_be_visible()
    expect(page.locator("#error-banner")).to_contain_text("from")
    expect(page.locator("#rows tr.row")).to_have_count(0)


# --- item 8: the timeline axis and the action icon -----------------------------------------------------

def test_axis_labels_never_overlap_and_action_icon_is_no_fold_triangle(browser, site, artifacts):
    url, ids = site
    for width in WIDTHS:
        pg = new_page(browser, width)
        pg.goto(f"{url}/executions/{ids['long-import']}")
        expect(pg.locator(".wf-row")).to_have_count(3)
        ticks = pg.locator("#wf-axis .wf-tick")
        assert ticks.count() >= 3
        boxes = [ticks.nth(i).bounding_box() for i in range(ticks.count())]
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert a["x"] + a["width"] <= b["x"], (width, [ticks.nth(i).text_content() for i in range(ticks.count())])
        axis = pg.locator("#wf-axis .wf-ticks").bounding_box()
        assert boxes[-1]["x"] + boxes[-1]["width"] <= axis["x"] + axis["width"] + 1
        icon = pg.locator('.wf-row[data-kind="action"] .wf-icon').text_content()
        assert icon not in "▶▸▾◀◂►▷▹" and icon.strip()
        pg.screenshot(path=str(artifacts / f"ux-axis-{width}.png"))
        pg.context.close()
        assert pg.problems == []


# --- item 9: Quick View and the row cursor --------------------------------------------------------------

def _quick_view_moved_to_the_third_row(page, url: str):
    """The listing with Quick View opened on the second row (j, j, q), then moved to the third (→), loaded:
    the rows and the third one's id."""
    page.goto(f"{url}/")
    rows = page.locator("#rows tr.row")
    expect(rows.nth(3)).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("q")
    expect(page.locator("#quick-view")).to_be_visible()
    page.keyboard.press("ArrowRight")
    third = rows.nth(2).get_attribute("data-id")
    expect(page.locator("#quick-view")).to_have_attribute("data-loaded", third)
    return rows, third


def test_after_quick_view_one_row_is_marked_and_enter_opens_it(page, site):
    url, _ = site
    rows, third = _quick_view_moved_to_the_third_row(page, url)
    page.keyboard.press("Escape")
    expect(page.locator("#quick-view")).to_be_hidden()
    marked = page.locator("#rows tr.row.cursor, #rows tr.row.current, #rows tr.row[aria-current]")
    expect(marked).to_have_count(1)
    expect(rows.nth(2)).to_have_class(re.compile(r"\bcursor\b"))
    expect(rows.nth(2)).to_be_focused()  # once the dialog's close event has run
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/executions/{third}"))


def test_enter_right_after_quick_view_closes_opens_the_row_it_showed(page, site):
    # Esc then Enter at once: the browser gives focus back to the row Quick View was opened from before the
    # dialog's close event moves it to the row Quick View showed; Enter opens that one, the cursor row.
    url, _ = site
    _, third = _quick_view_moved_to_the_third_row(page, url)
    page.evaluate("""() => document.getElementById("quick-view").addEventListener("close",
        (e) => e.stopImmediatePropagation(), {capture: true, once: true})""")  # the close event, as if late
    page.keyboard.press("Escape")
    expect(page.locator("#quick-view")).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.id") != third  # the browser's restored focus
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/executions/{third}"))


# --- item 11: automation metrics ------------------------------------------------------------------------

def test_automation_metrics_follow_the_reference_and_the_shown_attempt(page, site):
    url, ids = site
    eid = ids["renew-certificate:Failed"]
    item = get_json(f"{url}/api/executions/{eid}")
    assert item["shown_attempt"] == 3 and item["attempt_started_at"] != item["started_at"]
    page.goto(f"{url}/executions/{eid}")
    labels = page.locator("#metrics dt")
    expect(labels.first).to_have_text("Started At")
    expect(labels.nth(1)).to_have_text("Duration")
    texts = labels.all_text_contents()
    assert "Total Tokens" not in texts and "Model" not in texts, texts
    started = page.locator("#metrics .metric").filter(has=page.locator("dt", has_text=re.compile("^Started At$")))
    assert started.locator("time").get_attribute("datetime") == item["attempt_started_at"]
    first = page.locator("#metrics .metric").filter(has=page.locator("dt", has_text="First Attempt Started At"))
    assert first.locator("time").get_attribute("datetime") == item["started_at"]
    # An agent keeps Total Tokens and Model.
    page.goto(f"{url}/executions/{ids['research-agent:Success']}")
    expect(page.locator("#metrics dt", has_text="Total Tokens")).to_be_visible()


# --- item 12: Quick View shows the code first, with one download ---------------------------------------

def test_quick_view_shows_code_above_the_fold_and_one_download(page, site):
    url, ids = site
    page.goto(f"{url}/")
    row(page, ids["sync-inventory:Success"]).locator(".act-quick").click()
    dialog = page.locator("#quick-view")
    code = dialog.locator(".code-block").first
    expect(code).to_be_visible()
    assert code.bounding_box()["y"] + 40 < 900
    assert dialog.locator("a[download], .code-download").count() == 1


# --- search within an execution, and the mini-map -------------------------------------------------------

def test_search_within_an_execution_jumps_to_matches_and_the_minimap_shows_failures(page, site, artifacts):
    url, ids = site
    page.goto(f"{url}/executions/{ids['long-agent']}")
    marks = page.locator("#minimap .mm-fail")
    expect(marks).to_have_count(20)
    expect(page.locator("#minimap .mm-slow").first).to_be_attached()
    search = page.locator("#step-search")
    search.fill("chat 777")
    expect(page.locator("#step-search-count")).to_have_text("1 of 1")
    expect(page.locator("#step-name")).to_have_text("chat 777")
    selected = page.locator("#wf-rows li.wf-row.selected")
    expect(selected).to_contain_text("chat 777")
    rows_box, row_box = page.locator("#wf-rows").bounding_box(), selected.bounding_box()
    assert rows_box["y"] <= row_box["y"] and row_box["y"] + row_box["height"] <= rows_box["y"] + rows_box["height"] + 1
    search.fill("failed")
    expect(page.locator("#step-search-count")).to_have_text("1 of 20")
    expect(page.locator("#step-name")).to_have_text("turn 50")
    search.press("Enter")
    expect(page.locator("#step-search-count")).to_have_text("2 of 20")
    expect(page.locator("#step-name")).to_have_text("turn 100")
    search.press("Shift+Enter")
    expect(page.locator("#step-name")).to_have_text("turn 50")
    page.screenshot(path=str(artifacts / "ux-search-minimap.png"))
    marks.last.click()
    expect(page.locator("#step-name")).to_have_text("turn 1000")
    # Text inside a step's input or output is found too.
    page.goto(f"{url}/executions/{ids['import-orders:Failed']}")
    page.locator("#step-search").fill("partner.example.com")
    expect(page.locator("#step-name")).to_have_text("Fetch batch")
    expect(page.locator("#step-search-count")).to_have_text("1 of 1")


# --- Compare -------------------------------------------------------------------------------------------

def test_compare_two_attempts_of_the_demos_retried_automation_shows_the_changed_step(page, site, artifacts):
    url, ids = site
    eid = ids["flaky-webhook:Success"]  # retried in the demo: attempt 1 Failed, attempt 2 Success
    page.goto(f"{url}/executions/{eid}")
    link = page.locator("#compare-attempts")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r"/compare\?"))
    expect(page.locator("#compare")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#compare-summary")).to_contain_text("Status Failed → Success")
    first = page.locator("#compare-rows tr.first-divergence")
    expect(first).to_have_count(1)
    expect(first).to_contain_text("Upsert contact")
    expect(first.locator("td").nth(1)).to_contain_text("Failed")
    expect(first.locator("td").nth(3)).to_contain_text("Success")
    expect(page.locator("#compare-io")).to_contain_text("Output: 1 change")
    page.screenshot(path=str(artifacts / "ux-compare.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # From the listing: select two runs of one automation, then Compare.
    page.goto(f"{url}/")
    for key in ("import-orders:Failed", "sync-inventory:Success"):
        row(page, ids[key]).locator("input.select-execution").check()
    compare = page.locator(".selection-bar .compare-selected")
    expect(compare).to_be_visible()
    compare.click()
    expect(page.locator("#error-banner")).to_contain_text("same agent or automation")


# --- the visual pass ----------------------------------------------------------------------------------------

BOXES_JS = """(groups) => Object.fromEntries(groups.map((g) => [g, [...document.querySelectorAll(g)].slice(0, 20)
  .map((c) => [...c.children].map((e) => e.getBoundingClientRect())
    .filter((r) => r.width).map((r) => ({x: r.x, y: r.y, width: r.width, height: r.height})))]))"""


def settled_boxes(pg: Page, groups: tuple[str, ...]) -> dict[str, list[list[dict]]]:
    """The boxes of each group's children once two snapshots 200 ms apart agree (at most 10 s)."""
    deadline = time.monotonic() + 10
    last = pg.evaluate(BOXES_JS, list(groups))
    while True:
        pg.wait_for_timeout(200)
        now = pg.evaluate(BOXES_JS, list(groups))
        if now == last or time.monotonic() > deadline:
            return now
        last = now


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_whole_at_both_widths_and_schemes(browser, site, artifacts, width, scheme):
    url, ids = site
    pg = new_page(browser, width, scheme)
    pages = {"listing": "/", "detail-failed": f"/executions/{ids['import-orders:Failed']}",
             "detail-running": f"/executions/{ids['migrate-customers:Running']}",
             "detail-agent": f"/executions/{ids['support-agent:Failed']}", "not-found": f"/executions/{'0' * 32}",
             "compare": f"/compare?a={ids['flaky-webhook:Success']}&a_attempt=1&b={ids['flaky-webhook:Success']}"}
    for name, path in pages.items():
        pg.goto(f"{url}{path}")
        if name == "listing":
            expect(pg.locator("#rows tr.row").first).to_be_visible()
            expect(pg.locator("#rows .retry-why").first).to_be_visible()
        elif name == "compare":
            expect(pg.locator("#compare-rows tr").first).to_be_visible()
        elif name.startswith("detail"):
            expect(pg.locator("#metrics .metric").first).to_be_visible()
            if name != "detail-running":  # its one step is still open: no finished step to show yet
                expect(pg.locator(".wf-row").first).to_be_visible()
        # Late slots (retry, code) fill in after their own requests: measured once the layout holds still (a
        # fixed wait measured mid-change on a loaded machine), every box of a group in one snapshot.
        groups = settled_boxes(pg, (".row-actions", ".status-line", ".head-actions", ".detail-title",
                                    "#wf-axis .wf-ticks"))
        assert pg.evaluate("document.documentElement.scrollWidth") <= width, name
        assert pg.evaluate(OFFSCREEN_JS) == [], name
        assert pg.evaluate(CLIPPED_JS, WHOLE_TEXT) == [], name
        for group, containers in groups.items():
            for kids in containers:
                for i, a in enumerate(kids):
                    assert not any(boxes_overlap(a, b) for b in kids[i + 1:]), (name, group, kids)
        bg = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        level = sum(int(v) for v in re.findall(r"\d+", bg)[:3]) / 3
        assert (level < 60) if scheme == "dark" else (level > 200), (name, bg)
        pg.screenshot(path=str(artifacts / f"visual-{name}-{width}-{scheme}.png"), full_page=True)
    pg.context.close()
    assert pg.problems == []


def test_readme_and_viewer_agree_that_failed_agents_can_be_retried(page, site):
    """Item 12: the README's Retry section said automations only; a failed agent's row offers Retry."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    retry_section = readme.split("## Retry", 1)[1].split("\n## ", 1)[0]
    assert "of an automation or an agent" in retry_section
    url, ids = site
    page.goto(f"{url}/")
    agent_row = row(page, ids["support-agent:Failed"])
    expect(agent_row.locator(".retry-left")).to_have_text("2 retries left")
    expect(agent_row.locator(".status-info")).to_be_visible()
