"""Issue 24.3: the auditor's CSV export reads like the access-log page — Europe/Riga time from the page's own
formatter and each household's address beside its opaque id — with formula-like cells neutralised; the date
filter counts Riga days."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import text

from pipeline.portal.access_log import as_csv
from pipeline.store.db import connect
from tests.portal.conftest import ADDRESS, ARIS_CODE


def exported(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text), delimiter=";"))


def test_the_export_has_riga_time_and_the_households_address(signed_in, portal_store):
    engine = connect(portal_store.url)
    with engine.begin() as conn:
        household_id = conn.execute(text("SELECT household_id FROM portal_household_ids WHERE aris_code = :a"),
                                    {"a": ARIS_CODE}).scalar_one()
        for at, action, household in ((dt.datetime(2026, 7, 1, 21, 30, 5), "view", household_id),
                                      (dt.datetime(2026, 1, 15, 23, 0, 0), "sign-in", None)):
            conn.execute(text("INSERT INTO access_log (at, username, action, household_id, period) "
                              "VALUES (:at, 'csvriga', :a, :h, :p)"),
                         {"at": at, "a": action, "h": household, "p": "2026-11" if household else None})
    auditor = signed_in("auditor")
    rows = exported(auditor.get("/audit?user=csvriga&format=csv"))
    assert [(row["at_riga"], row["action"], row["household_id"], row["address"], row["period"]) for row in rows] == [
        ("2026-07-02 00:30:05", "view", household_id, ADDRESS, "2026-11"),    # UTC+3 in summer
        ("2026-01-16 01:00:00", "sign-in", "", "", "")]                       # UTC+2 in winter
    assert "2026-07-02 00:30:05" in auditor.get("/audit?user=csvriga").text    # the page says the same time


def test_formula_like_cells_are_neutralised_by_the_projects_csv_writer():
    rows = [(dt.datetime(2026, 3, 1, 12, 0, 0), "staff", "view", None, None, "ab12", "2026-02")]
    body = as_csv(rows, {"ab12": '=HYPERLINK("http://evil.example";"Mežmaļi")'}).decode("utf-8")
    row = next(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert row["address"] == '\'=HYPERLINK("http://evil.example";"Mežmaļi")' and row["at_riga"] == "2026-03-01 14:00:00"


def test_the_date_filter_counts_riga_days(signed_in, portal_store):
    """21:30 UTC on 1 July is 00:30 on 2 July in Riga: it is a 2 July row for the filter as for the page."""
    with connect(portal_store.url).begin() as conn:
        conn.execute(text("INSERT INTO access_log (at, username, action) VALUES (:at, 'rigaday', 'sign-in')"),
                     {"at": dt.datetime(2026, 7, 1, 21, 30, 5)})
    auditor = signed_in("auditor")
    on = exported(auditor.get("/audit?user=rigaday&since=2026-07-02&until=2026-07-02&format=csv"))
    assert [row["at_riga"] for row in on] == ["2026-07-02 00:30:05"]
    assert exported(auditor.get("/audit?user=rigaday&since=2026-07-01&until=2026-07-01&format=csv")) == []
