"""Projects in real Chromium: the landing page lists the caller's projects with their figures, the header's
switcher moves between them (All projects only for those who see every project), and links and permalinks
keep the project."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from tests.conftest import new_store
from tests.retry_support import add_attempt

from execlog_otel import semconv as sc
from execlog_otel import server as server_mod
from execlog_otel.config import Settings
from execlog_otel.viewer.auth import hash_password

PASSWORD = "correct horse battery"
T0 = time.time_ns() - 3600 * 10**9


@pytest.fixture(scope="module")
def projects_viewer(ch_client, chdb_url, tmp_path_factory):
    store = new_store(ch_client)
    hashed = hash_password(PASSWORD)
    people = tmp_path_factory.mktemp("people") / "people.toml"
    people.write_text(f'[users.otto]\npassword = "{hashed}"\nprojects = {{ alpha = "operator", beta = "viewer" }}\n'
                      f'[users.ada]\npassword = "{hashed}"\nadmin = true\n')
    ids = {}
    for i, (project, name, status) in enumerate([("alpha", "alpha-sync", "Failed"), ("alpha", "alpha-sync", "Success"),
                                                  ("beta", "beta-report", "Success"),
                                                  ("gamma", "gamma-secret", "Failed")]):
        ids.setdefault(project, add_attempt(store, name=name, status=status, start_ns=T0 + i * 10**9,
                                            resource_extra={sc.RESOURCE_PROJECT: project})[0])
    settings = Settings.from_env(environ={}, clickhouse_url=chdb_url, database=store.database, port=0,
                                 auth_file=str(people))
    running = server_mod.start(settings, store=store).start_background()
    try:
        yield running.url, ids
    finally:
        running.close()
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def signed_in(browser, url: str, user: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.goto(f"{url}/login?next=/projects")
    pg.fill('input[name="user"]', user)
    pg.fill('input[name="password"]', PASSWORD)
    pg.locator('form button[type="submit"]').first.click()
    expect(pg).to_have_url(f"{url}/projects")
    return context, pg, problems


def test_landing_page_and_switcher(browser, projects_viewer, artifacts):
    url, ids = projects_viewer
    context, pg, problems = signed_in(browser, url, "otto")
    try:
        rows = pg.locator("#projects-body tr[data-project]")
        expect(rows).to_have_count(2)  # alpha and beta; gamma is not otto's
        alpha = pg.locator('#projects-body tr[data-project="alpha"]')
        expect(alpha.locator("td").nth(0)).to_have_text("operator")
        expect(alpha.locator("td").nth(1)).to_have_text("2")  # executions in 24 h
        expect(alpha.locator("td").nth(2)).to_have_text("1")  # failed in 24 h
        expect(pg.locator("#all-projects")).to_be_hidden()
        switcher = pg.locator("#project-switcher")
        expect(switcher).to_have_attribute("data-ready", "true")
        options = switcher.locator("option").all_text_contents()
        assert "All projects" not in options and "gamma" not in options and {"alpha", "beta"} <= set(options)
        pg.screenshot(path=str(artifacts / "projects-landing.png"), full_page=True)
        alpha.locator("a.project-link").click()
        expect(pg).to_have_url(re.compile(r"/executions\?project=alpha"))
        expect(pg.locator("#rows tr.row")).to_have_count(2)
        expect(pg.locator("#rows .name-link").first).to_have_text("alpha-sync")
        expect(switcher).to_have_value("alpha")
        # The switcher moves to beta's execution log.
        switcher.select_option("beta")
        expect(pg).to_have_url(re.compile(r"/executions\?project=beta$"))
        expect(pg.locator("#rows tr.row")).to_have_count(1)
        expect(pg.locator("#rows .name-link")).to_have_text("beta-report")
        # Its detail keeps the project, and so does the page's permalink.
        pg.locator("#rows .name-link").click()
        expect(pg).to_have_url(re.compile(rf"/executions/{ids['beta']}\?.*project=beta"))
        expect(pg.locator("#exec-name")).to_have_text("beta-report")
        expect(pg.locator("#back-link")).to_have_attribute("href", re.compile(r"project=beta"))
        # Another team's execution is a 404 page, whatever the link says.
        resp = pg.goto(f"{url}/executions/{ids['gamma']}")
        assert resp.status == 404
        pg.screenshot(path=str(artifacts / "projects-switcher.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_admins_get_all_projects(browser, projects_viewer):
    url, _ = projects_viewer
    context, pg, problems = signed_in(browser, url, "ada")
    try:
        expect(pg.locator("#projects-body tr[data-project]")).to_have_count(3)
        expect(pg.locator("#all-projects")).to_be_visible()
        switcher = pg.locator("#project-switcher")
        expect(switcher).to_have_attribute("data-ready", "true")
        assert switcher.locator("option").first.text_content() == "All projects"
        switcher.select_option("gamma")
        expect(pg).to_have_url(re.compile(r"/projects\?project=gamma$"))
        switcher.select_option("")
        expect(pg).to_have_url(re.compile(r"/projects$"))
        assert problems == []
    finally:
        context.close()
