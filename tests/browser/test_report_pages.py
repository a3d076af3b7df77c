"""The run report and the Data Docs as a new user sees them: rendered in headless Chromium with no network.

Every request the pages make is recorded; anything but a `file://` URL fails the test (the bureau's network has
no internet). Skipped, with the reason, only where no Chromium binary is installed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.flows.monthly import run_month
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH "
                                                   "(apt-get install chromium); browser tests skipped")]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# an asset the page would fetch: a src/href of link/script/img/iframe, or a CSS url(); plain <a href> links are text
REMOTE_ASSET = re.compile(r"<(?:link|script|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?https?://"
                          r"|url\(\s*[\"']?https?://|@import\s+[\"']?https?://", re.IGNORECASE)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> WorkLayout:
    root = tmp_path_factory.mktemp("pages")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=True)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings)
    return WorkLayout(root / "work", SAMPLE_PERIOD)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, path: Path):  # noqa: ANN001, ANN201 - playwright objects
    """Open a page and record every URL it requests."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    return page


def test_report_renders_tables_and_charts_with_no_external_url(layout, browser, tmp_path):
    html = (layout.report / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert "<pre>" not in html
    page = open_offline(browser, layout.report / "report.html")
    assert page.title() == f"EIKIS run report {SAMPLE_PERIOD}"
    assert page.locator("table").count() >= 9 and page.locator("svg").count() >= 6
    headings = page.locator("h2").all_inner_texts()
    for section in ("Summary", "By municipality", "By recipient", "Sources and quarantine", "Data Docs"):
        assert any(h.startswith(section) for h in headings), headings
    municipalities = page.locator("#municipalities ~ table").first.locator("tr td:first-child").all_inner_texts()
    assert municipalities == ["Bauskas nov.", "Daugavpils", "Krāslavas nov.", "Līvānu nov.", "Rīga", "Valmieras nov."]
    assert page.get_by_text('AS "Latvenergo"').count() >= 2  # company names, not only registration numbers
    assert all(url.startswith("file://") for url in page.requested), page.requested
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()


def test_data_docs_have_no_remote_assets(layout):
    pages = sorted(layout.data_docs.rglob("*.html")) + sorted(layout.data_docs.rglob("*.css"))
    assert len(pages) > 20
    offenders = [str(p.relative_to(layout.data_docs)) for p in pages if REMOTE_ASSET.search(p.read_text("utf-8"))]
    assert offenders == []


def test_data_docs_show_validations_and_marks_offline(layout, browser):
    index = open_offline(browser, layout.data_docs / "index.html")
    rows = index.locator("table tr")
    assert rows.count() == 10  # a header and one row per source
    assert "threshold" in index.locator("th").nth(3).inner_text()
    assert index.get_by_text("✔ passed").count() == 9
    index.get_by_role("link", name="pmlp", exact=True).click()
    index.wait_for_load_state("load")
    validations = index.locator("table").first.locator("tbody tr")
    assert validations.count() == 1  # the validation run, as a plain table row (no bootstrap-table)
    mark = index.locator(".ge-success-icon").first
    assert mark.evaluate("e => getComputedStyle(e, '::before').content") == '"✔"'
    index.get_by_role("link", name="open result").first.click()
    index.wait_for_load_state("load")
    assert index.locator("text=Succeeded").count() >= 1
    marks = index.locator(".fa-check-circle")
    assert marks.count() >= 9 and marks.first.is_visible()
    assert marks.first.evaluate("e => getComputedStyle(e, '::before').content") == '"✔"'
    assert all(url.startswith("file://") for url in index.requested), index.requested
    index.close()
