"""Issue 24.3: the portal in Latvian (English second) — catalogue, language choice, Latvian formats, labels for
codes, the threshold and the distance from it, support types only where they apply, REVIEW causes in words (their
records: test_review_records.py), "first N of M", the query kept in the box, and the access log in Riga time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.portal.app import create_app
from pipeline.portal.i18n import LABELS, LOCALE_DIR, translations
from pipeline.store.db import connect
from tests.portal.conftest import (
    CODE,
    csrf_of,
    household_links,
    new_user,
    open_household,
    portal_settings,
    search,
    sign_in,
)

ELIGIBLE_ARIS, REVIEW_ARIS = "101000022", "101000033"     # Bērzu iela 2, Rīga; "Ausekļi", Vecates pag.


def test_every_text_the_portal_shows_has_a_latvian_translation():
    sources = {message for _, _, message, _, _ in extract_from_dir(
        LOCALE_DIR.parent, [("**/templates/**.html", "jinja2"), ("**.py", "python")],
        keywords={"_": None, "N_": None})}
    assert len(sources) > 90 and set(LABELS.values()) <= sources
    latvian = translations("lv")
    untranslated = [message for message in sources if latvian.gettext(message) == message]
    assert untranslated == []


def latvian_client(app, username: str = "staff") -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert sign_in(client, username).status_code == 303
    return client


def test_latvian_by_default_with_latvian_formats_labels_and_the_threshold(app):
    client = latvian_client(app)
    page = open_household(client, "101000047")
    assert '<html lang="lv">' in page
    assert "Ieskaitītās personas" in page and "Slieksnis" in page
    assert "1\u00a0207,75 EUR" in page and "520,00 EUR" in page and "687,75 EUR virs sliekšņa" in page
    assert "Neatbilst" in page and "NOT_ELIGIBLE" not in page
    assert "novembris 2026" in page


def test_the_browser_language_and_the_choice_on_the_page(app, portal_store):
    english = TestClient(app, headers={"Accept-Language": "en-GB,en;q=0.9,lv;q=0.5"})
    assert '<html lang="en">' in english.get("/login").text and "User name" in english.get("/login").text
    client = latvian_client(app, new_user(portal_store.url))     # the choice is stored for the user who makes it
    token = csrf_of(client.get("/search").text)
    switched = client.post("/language", data={"lang": "en", "next": "/search", "csrf_token": token},
                           follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/search"
    assert "Find a household" in client.get("/search").text
    assert client.post("/language", data={"lang": "lv", "next": "//evil.example", "csrf_token": token},
                       follow_redirects=False).headers["location"] == "/search"
    assert "Atrast mājsaimniecību" in client.get("/search").text
    assert client.post("/language", data={"lang": "en", "next": "/search"}).status_code == 400    # no CSRF token


def test_support_types_only_for_an_eligible_household_with_human_labels(signed_in):
    client = signed_in("staff")
    eligible = open_household(client, ELIGIBLE_ARIS)
    assert re.findall(r'<span class="chip">([^<]+)</span>', eligible) == [
        "Electricity (base)", "Electric heating", "Gas heating", "District heating", "Decentralised fuel"]
    assert "520.00 EUR under the threshold (or at it)" in eligible       # average 0.00
    assert 'class="chip"' not in open_household(client, REVIEW_ARIS)


def test_review_names_its_causes_in_words(signed_in):
    page = open_household(signed_in("staff"), REVIEW_ARIS)
    causes = re.findall(r"<li><code>([A-Z_]+)</code> — ([^<]+)</li>", page)
    assert causes and all(label and label != code for code, label in causes)


def test_first_n_of_all_results_and_the_query_kept(portal_store):
    settings = dataclasses.replace(portal_settings(portal_store.url), page_size=1)
    client = TestClient(create_app(settings), headers={"Accept-Language": "en"})
    assert sign_in(client, "staff").status_code == 303
    page = html.unescape(search(client, "name", "berzins raivis").text)
    assert "First 1 of 2 results — refine the search" in page and len(household_links(page)) == 1
    assert 'name="q" value="berzins raivis"' in page
    code_page = search(client, "code", CODE).text
    assert f'value="{CODE}"' in code_page and "Results: 1" in code_page


def test_an_address_search_past_its_count_says_at_least(portal_store, monkeypatch):
    monkeypatch.setattr("pipeline.portal.lookup.ADDRESS_READ", 1)
    settings = dataclasses.replace(portal_settings(portal_store.url), page_size=1)
    client = TestClient(create_app(settings), headers={"Accept-Language": "lv"})
    assert sign_in(client, "staff").status_code == 303
    page = html.unescape(search(client, "address", "mežmaļi").text)
    assert "Pirmie 1 no vismaz 1 rezultātiem — precizējiet meklēšanu" in page and len(household_links(page)) == 1


def test_the_access_log_is_shown_in_riga_time(signed_in, portal_store):
    with connect(portal_store.url).begin() as conn:
        for at in (dt.datetime(2026, 7, 1, 21, 30, 5), dt.datetime(2026, 1, 15, 23, 0, 0)):
            conn.execute(text("INSERT INTO access_log (at, username, action) VALUES (:at, 'rigatime', 'sign-in')"),
                         {"at": at})
    page = signed_in("auditor").get("/audit?user=rigatime").text
    assert "2026-07-02 00:30:05" in page and "2026-01-16 01:00:00" in page       # UTC+3 in summer, +2 in winter
    assert "When (Riga time)" in page and "signed in" in page


def test_the_auditor_reads_households_in_the_access_log_by_address(signed_in):
    staff = signed_in("staff")
    search(staff, "address", "101000047")
    page = html.unescape(signed_in("auditor").get("/audit?user=staff&kind=shown").text)
    assert '"Mežmaļi", Vecates pag., Valmieras nov., LV-1004</a>' in page
