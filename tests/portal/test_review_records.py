"""Issue 24.3: a REVIEW household's page lists the quarantined records behind it — source file, record, line and
the reason in words — for that household only, and never their personal data.

The sample month holds the generator's injected bad records (`eikis generate --inject-bad`, the `zz_injected.*`
files): PMLP records at one address, a VID record of a person living elsewhere, a VSAA record of a third."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.portal.i18n import LABELS, translations
from pipeline.store.db import connect
from tests.portal.conftest import ARIS_CODE, open_household, sign_in

PMLP_ARIS, VID_ARIS, VSAA_ARIS = "101000065", "105000143", "101000033"
_ROW = re.compile(r"<tr><td><code>([^<]+)</code></td><td>(\d+)</td><td>([^<]+)</td><td>([^<]+) <code>([A-Z_]+)</code>"
                  r"</td></tr>")


def quarantined(page: str) -> list[tuple[str, str, str, str, str]]:
    """(file, record, line, label, code) of each row of the page's quarantine table."""
    tables = re.findall(r'<table class="quarantine">(.*?)</table>', page, re.S)
    return _ROW.findall(tables[0]) if tables else []


def test_each_review_household_lists_its_own_members_quarantined_records(signed_in):
    client = signed_in("staff")
    vid = quarantined(open_household(client, VID_ARIS))
    assert vid[0] == ("vid/zz_injected.xml", "1", "3", "a negative amount", "NEGATIVE_AMOUNT")
    assert [(row[0], row[4]) for row in vid] == [("vid/zz_injected.xml", code) for code in (
        "NEGATIVE_AMOUNT", "BAD_PERIOD", "BAD_PERIOD", "UNKNOWN_ENUM", "BAD_AMOUNT")]
    pmlp = quarantined(open_household(client, PMLP_ARIS))
    assert {(row[0], row[4]) for row in pmlp} == {
        ("pmlp/persons_01.xml", "DUPLICATE_PERSON"), ("pmlp/zz_injected.xml", "DUPLICATE_PERSON"),
        ("pmlp/zz_injected.xml", "INVALID_PERSON_CODE"), ("pmlp/zz_injected.xml", "UNKNOWN_ENUM")}
    vsaa = quarantined(open_household(client, VSAA_ARIS))
    assert vsaa and {row[0] for row in vsaa} == {"vsaa/zz_injected.xml"}
    assert all(label == LABELS[code] for rows in (vid, pmlp, vsaa) for _, _, _, label, code in rows)
    assert 'class="quarantine"' not in open_household(client, ARIS_CODE)        # not under review: no table


def test_the_records_are_shown_in_latvian_without_personal_data(app, portal_store):
    client = TestClient(app, raise_server_exceptions=False)
    assert sign_in(client, "staff").status_code == 303
    page = open_household(client, PMLP_ARIS)
    rows = quarantined(page)
    latvian = translations("lv").gettext
    assert rows and all(label == latvian(LABELS[code]) != LABELS[code] for _, _, _, label, code in rows)
    for personal in ("999999-99999", "320000-00007", "Inga", "Kļava"):            # the injected PMLP records' values
        assert personal not in page
    with connect(portal_store.url).connect() as conn:
        columns = conn.execute(text("SELECT * FROM portal_review_records LIMIT 1")).keys()
    assert list(columns) == ["period", "aris_code", "source", "file", "record", "line", "reason"]
