"""Download Code in headless Chromium: the listing's row action downloads a replay file that runs
offline, the multi-select bar downloads a Zip with one file per selected execution, and Quick View
shows the executed code highlighted (as text, never markup)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect
from tests.replay_support import run_replay, unzip

import execlog_otel as ex

pytestmark = pytest.mark.browser

expect.set_options(timeout=10_000)

SHIPPING = {"de": 4.9, "fr": 6.5}


class Warehouse:
    """Stands for a remote stock API: the replay answers it from the log."""

    def reserve(self, sku: str, qty: int) -> dict:
        return {"sku": sku, "reserved": qty, "left": 100 - qty}


WAREHOUSE = Warehouse()


@ex.automation("ship-order", trigger="webhook")
def ship_order(sku: str, qty: int, country: str = "de") -> dict:
    with ex.step("Reserve stock", kind="connector", connector="Warehouse") as s:
        stock = WAREHOUSE.reserve(sku, qty)
        s.set_output(stock)
    return {"sku": sku, "shipping": SHIPPING[country], "left": stock["left"], "note": "<b>not markup</b>"}


@pytest.fixture
def three_executions(server):
    telemetry = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="download-browser")
    for sku, qty in (("A-1", 2), ("B-2", 5), ("C-3", 7)):
        ship_order(sku, qty)
    telemetry.force_flush()
    deadline = time.monotonic() + 20
    while True:
        body = json.loads(urllib.request.urlopen(f"{server.url}/api/executions?name=ship-order").read())
        if len(body["items"]) == 3 and all(i["status"] == "Success" for i in body["items"]):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    yield server.url
    telemetry.shutdown()


def test_download_code_zip_and_quick_view_code(browser, three_executions, artifacts, tmp_path):
    url = three_executions
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/")
    rows = page.locator("#rows tr.row")
    expect(rows).to_have_count(3)

    # Row action: one Python file that replays the execution offline.
    with page.expect_download() as info:
        rows.nth(0).locator("a.act-download").click()
    download = info.value
    assert download.suggested_filename.startswith("ship_order_") and download.suggested_filename.endswith(".py")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    run = run_replay(path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["note"] == "<b>not markup</b>"

    # Multi-select: the action bar's Zip has one file per selected row.
    bar = page.locator(".selection-bar")
    expect(bar).to_be_hidden()
    rows.nth(0).locator("input.select-execution").check()
    rows.nth(2).locator("input.select-execution").check()
    expect(bar).to_be_visible()
    expect(bar.locator(".selection-count")).to_have_text("2 executions selected")
    page.screenshot(path=str(artifacts / "download-selection-bar.png"), full_page=True)
    with page.expect_download() as info:
        bar.locator("#download-zip").click()
    zip_path = tmp_path / "selected.zip"
    info.value.save_as(zip_path)
    files = unzip(zip_path.read_bytes())
    assert len(files) == 2
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert run_replay(tmp_path / name, tmp_path).returncode == 0, name

    # Quick View: the executed code, highlighted, beside the metadata.
    rows.nth(1).locator(".act-quick").click()
    code = page.locator('#quick-view [data-slot="quickview-code"] pre.code-block code')
    expect(code).to_contain_text("def ship_order(sku: str, qty: int, country: str = \"de\") -> dict:")
    expect(code.locator(".tok-keyword", has_text="def").first).to_be_visible()
    expect(code.locator(".tok-string", has_text='"<b>not markup</b>"')).to_have_count(1)
    assert code.locator("b").count() == 0  # span data stays text
    listed = json.loads(urllib.request.urlopen(url + "/api/executions?name=ship-order").read())["items"]
    expect(page.locator('#quick-view [data-slot="quickview-actions"] a')).to_have_attribute(
        "href", f"/executions/{listed[1]['id']}/code")
    page.screenshot(path=str(artifacts / "download-quick-view-code.png"), full_page=True)

    # Detail page: a Download Code button, the execution's code, and the selected step's code.
    page.goto(f"{url}/executions/{listed[0]['id']}")
    expect(page.locator('.head-actions [data-slot="download-code"] a')).to_have_attribute(
        "href", f"/executions/{listed[0]['id']}/code")
    expect(page.locator('[data-slot="execution-code"] pre.code-block')).to_contain_text("def ship_order(")
    page.locator("#wf-rows li.wf-row", has_text="Reserve stock").click()
    step_code = page.locator('[data-slot="step-code"] pre.code-block')
    expect(step_code).to_contain_text("WAREHOUSE.reserve(sku, qty)")
    page.screenshot(path=str(artifacts / "download-detail-code.png"), full_page=True)
    assert errors == []
    context.close()
