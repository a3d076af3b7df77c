"""The real app under uvicorn on a loopback port, driven by Playwright in Debian's Chromium: sign in, search by
code, by name and by address, open a household, be refused the access log as staff, read it as auditor.

Skipped only when no Chromium binary exists (`.ci/run` installs it, so CI never skips). Set
`EIKIS_PORTAL_SCREENSHOT=docs/portal.png` to refresh the README's screenshot of the household page (in Latvian).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal.conftest import (
    ADDRESS,
    ARIS_CODE,
    CODE,
    CODE_NO_DASH,
    PASSWORD,
    new_user,
    portal_settings,
    running_portal,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary (apt-get install chromium)")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def server(portal_store) -> Iterator[str]:
    with running_portal(portal_settings(portal_store.url)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in_page(browser, server: str, username: str, locale: str = "en-GB"):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(f"{server}/search")
    assert page.url.endswith("/login")                     # not signed in: sent to the sign-in form
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.sign-in button[type=submit]")
    page.wait_for_url(f"{server}/search")
    return page


def run_search(page, kind: str, query: str) -> list[str]:
    page.check(f"input[name=kind][value={kind}]")
    page.fill("input[name=q]", query)
    page.click("form.search button[type=submit]")
    page.wait_for_selector("section.card h2")
    return page.locator("table.results tbody tr").all_inner_texts()


def test_staff_finds_a_household_each_way_and_is_refused_the_access_log(browser, server, caplog):
    caplog.set_level(logging.INFO)
    page = signed_in_page(browser, server, "staff")

    by_code = run_search(page, "code", CODE)
    assert len(by_code) == 1 and "Raivis Bērziņš" in by_code[0] and ADDRESS in by_code[0]
    assert page.url == f"{server}/search"                  # POSTed: the code is not in the URL
    by_name = run_search(page, "name", "berzins raivis")
    assert len(by_name) == 2 and sum(ADDRESS in row for row in by_name) == 1
    assert len(run_search(page, "address", ARIS_CODE)) == 1
    assert [ADDRESS in row for row in run_search(page, "address", "Mežmaļi, Vecates")] == [True]

    page.click("a.open")
    page.wait_for_selector("dl.facts")
    assert ARIS_CODE not in page.url and CODE_NO_DASH not in page.url
    assert page.locator("h1").inner_text() == ADDRESS
    facts = page.locator("dl.facts").inner_text()
    assert "Counted persons\n5" in facts and "1,207.75 EUR" in facts and "Not eligible" in facts
    assert page.locator("table.money tbody tr").count() == 12
    assert page.locator("table.history tbody tr").count() == 24

    response = page.goto(f"{server}/audit")
    assert response.status == 403 and "Not allowed" in page.content()
    page.context.close()

    uvicorn_lines = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("uvicorn"))
    assert "POST /search" in uvicorn_lines and "GET /household/" in uvicorn_lines
    for secret in (CODE, CODE_NO_DASH, CODE[:6], "berzins", "Mežmaļi", "Mez"):
        assert secret not in uvicorn_lines


def test_auditor_reads_and_filters_the_access_log(browser, server):
    page = signed_in_page(browser, server, "auditor")
    run_search(page, "name", "berzins raivis")
    page.goto(f"{server}/audit")
    assert page.locator("h1").inner_text() == "Access log"
    page.fill("input[name=user]", "auditor")
    page.select_option("select[name=kind]", "name")
    page.click("form.filters button:not([name])")
    rows = page.locator("table.results tbody tr").all_inner_texts()
    assert rows and all("auditor" in row and "name" in row for row in rows)
    assert "berzins" not in page.content()
    page.context.close()


def test_staff_switches_language_searches_three_ways_and_reads_the_threshold(browser, server, portal_store):
    """Issue 24.3 in a real browser: Latvian by the browser's language, a switch to English and back, the three
    searches with the query kept, and the household's threshold and distance from it in Latvian formats. A user
    of its own: the switch is stored for the user who makes it."""
    page = signed_in_page(browser, server, new_user(portal_store.url), locale="lv-LV")
    assert page.locator("html").get_attribute("lang") == "lv"
    assert page.locator("h1").inner_text() == "Atrast mājsaimniecību"
    page.click("form.language button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Find a household"
    page.click("form.language button[value=lv]")
    page.wait_for_selector("html[lang=lv]")

    assert len(run_search(page, "code", CODE)) == 1
    assert page.input_value("input[name=q]") == CODE                      # the query stays in the box
    assert page.locator("section.card h2").inner_text() == "Rezultāti: 1"
    by_name = run_search(page, "name", "berzins raivis")
    assert len(by_name) == 2 and page.input_value("input[name=q]") == "berzins raivis"
    assert len(run_search(page, "address", ARIS_CODE)) == 1
    assert "novembris 2026" in page.locator("table.results tbody tr").first.inner_text()

    page.click("a.open")
    page.wait_for_selector("dl.facts")
    assert page.locator("dd.threshold").inner_text() == "520,00 EUR"
    assert page.locator("dd.average").inner_text() == "1\u00a0207,75 EUR"
    assert page.locator("p.distance").inner_text() == "687,75 EUR virs sliekšņa"
    assert "Neatbilst" in page.locator("dl.facts").inner_text()
    assert page.locator(".chip").count() == 0
    screenshot = os.environ.get("EIKIS_PORTAL_SCREENSHOT")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=screenshot, full_page=True)
    page.context.close()
