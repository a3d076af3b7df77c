"""`simulation.html` (CONTRACTS §17) as the minister's adviser opens it: headless Chromium, no network, every chart
drawn, nothing requested but the file itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.flows.monthly import run_month
from pipeline.flows.simulate import simulate
from tests.browser.test_report_pages import CHROMIUM, browser, open_offline  # noqa: F401 - `browser` is a fixture
from tests.conftest import DEFAULT_POLICY, ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH "
                                                   "(apt-get install chromium); browser tests skipped")]


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("simulation_page")
    shutil.copytree(SAMPLE_INBOX / SAMPLE_PERIOD, root / "inbox" / SAMPLE_PERIOD)
    run_month(SAMPLE_PERIOD, root / "inbox", root / "outbox", DEFAULT_POLICY, root / "work",
              Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False))
    variants = [(name, ROOT / "policy" / "variants" / f"{name}.yaml")
                for name in ("threshold_minus_10", "threshold_plus_10")]
    return Path(simulate(SAMPLE_PERIOD, root / "work", DEFAULT_POLICY, variants, root / "sim").folder) / \
        "simulation.html"


def test_the_simulation_page_renders_every_chart_offline(page_path, browser):  # noqa: F811 - the fixture
    page = open_offline(browser, page_path)
    assert page.title() == f"EIKIS policy simulation {SAMPLE_PERIOD}"
    headings = page.locator("h2").all_inner_texts()
    for section in ("Variants", "Eligible households and cost", "Change by municipality", "By household size",
                    "By income decile of the baseline", "All figures (simulation.csv)"):
        assert section in headings, headings
    # per variant: eligible and cost (2), change by municipality (2 variants), size and decile (3 policies each)
    assert page.locator("svg").count() == 2 + 2 + 3 + 3
    assert page.get_by_text("threshold_plus_10").count() >= 3
    assert all(url.startswith("file://") for url in page.requested), page.requested
    page.close()
