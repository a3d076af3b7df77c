"""Issue 25's Done-when in the browser (Playwright, Debian's Chromium, the real app under uvicorn): staff register
an upheld appeal for a NOT_ELIGIBLE household on its page, are offered no confirmation, a decider confirms it in
another session, the page shows the original and the effective status; then `eikis corrections` publishes set 01,
a re-run publishes nothing, the claim for the object is ACCEPTED against set 01, and the case is held and
released. Skipped only when no Chromium binary exists (`.ci/run` installs it)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pipeline.cli import main
from pipeline.portal.users import add_user
from pipeline.store.db import connect
from tests.appeals_month import recorded_sample_month
from tests.conftest import SAMPLE_PERIOD
from tests.integration.test_corrections import a_household, claim_check, corrections, decided, published_set, url
from tests.portal.conftest import PASSWORD, portal_settings, running_portal
from tests.portal.test_browser import CHROMIUM, browser  # noqa: F401 - the module's Chromium fixture

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary (apt-get install chromium)")
CASE = "BVKB/2026-211"


def sign_in(browser, base: str, username: str):  # noqa: F811
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.sign-in button[type=submit]")
    page.wait_for_url(f"{base}/search")
    return page


def statuses(page) -> list[str | None]:
    """The first month's original and effective status, by their class (the labels are in the reader's language)."""
    row = page.locator("table.appeal-months tbody tr").first
    return [span.get_attribute("class") for span in row.locator("span.status").all()]


def test_the_appeal_loop_in_the_browser(browser, tmp_path, capsys):  # noqa: F811
    root = recorded_sample_month(tmp_path / "m")
    engine = connect(url(root))
    for name, role in (("sandra", "staff"), ("dace", "decider")):
        add_user(engine, name, role, PASSWORD)
    household = a_household(root, in_common_building=False)
    with engine.connect() as conn:
        household_id = conn.execute(text("SELECT household_id FROM portal_household_ids WHERE aris_code = :a"),
                                    {"a": household["aris_code"]}).scalar_one()
    with running_portal(portal_settings(url(root))) as base:
        staff = sign_in(browser, base, "sandra")
        staff.goto(f"{base}/household/{household_id}")
        staff.fill("form.appeal-form input[name=case_ref]", CASE)
        staff.select_option("form.appeal-form select[name=outcome]", "UPHELD")
        staff.select_option("form.appeal-form select[name=reason_code]", "INCOME_EVIDENCE")
        staff.click("form.appeal-form button[type=submit]")
        staff.wait_for_selector("tr.appeal[data-state=REGISTERED]")
        assert staff.locator("tr.appeal button[value=confirm]").count() == 0
        assert statuses(staff) == ["status not_eligible", "status not_eligible"]       # unconfirmed: no change
        assert CASE not in staff.url

        decider = sign_in(browser, base, "dace")
        decider.goto(f"{base}/household/{household_id}")
        decider.click("tr.appeal button[value=confirm]")
        decider.wait_for_selector("tr.appeal[data-state=CONFIRMED]")
        assert statuses(decider) == ["status not_eligible", "status eligible"]
        assert CASE in decider.locator("table.appeal-months tbody tr").first.inner_text()

    assert corrections(root, capsys).startswith(f"corrections {SAMPLE_PERIOD}: published set 01 (")
    _, rows = published_set(root, "01")
    assert (f"municipalities/{household['municipality_code']}", household["aris_code"]) in rows
    assert corrections(root, capsys) == f"corrections {SAMPLE_PERIOD}: nothing new to publish"
    electricity = decided(root, "electricity")
    own = electricity.loc[(electricity["aris_code"] == household["aris_code"]) & (electricity["status"] == "ACTIVE")
                          & electricity["address_error"].isna()].iloc[0]
    result = claim_check(root, [own["company_reg_no"],
                                f"C-1;2026-12-01T10:00:00;{own['object_id']};ELECTRICITY_BASE;1;10.000;1.00"])["C-1"]
    assert (result["status"], result["correction_set"]) == ("ACCEPTED", "01")
    args = ["--db", url(root), "--workdir", str(root / "work")]
    assert main(["retention", "--hold", CASE, *args]) == 0
    assert main(["retention", "--release", CASE, *args]) == 0
