"""Issue 27.5: the access log says which households each results page showed, and records every sign-in, failure
and sign-out, with no personal code or name (a code typed as a user name is not kept)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.store.db import connect
from tests.portal.conftest import CODE, CODE_NO_DASH, csrf_of, household_links, search, sign_in


def log_rows(url: str, since_rows: int = 0) -> list[tuple]:
    with connect(url).connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT at, username, action, kind, result_count, household_id, period FROM access_log"))][since_rows:]


def test_a_name_search_logs_every_household_the_page_showed(signed_in, portal_store):
    client = signed_in("staff")
    before = len(log_rows(portal_store.url))
    page = search(client, "name", "berzins raivis").text
    shown_on_page = [link.split("/")[2].split("?")[0] for link in household_links(page)]
    assert len(shown_on_page) == 2
    rows = log_rows(portal_store.url, before)
    searched = [row for row in rows if row[2] == "search"]
    assert len(searched) == 1 and searched[0][1:5] == ("staff", "search", "name", 2)
    shown = [row for row in rows if row[2] == "shown"]
    assert [row[5] for row in shown] == shown_on_page
    assert all(row[0] == searched[0][0] and row[1] == "staff" and row[3] == "name" and row[6] for row in shown)


def test_sign_ins_failures_and_sign_outs_are_logged_without_what_was_typed(app, portal_store):
    before = len(log_rows(portal_store.url))
    client = TestClient(app, client=("10.5.0.1", 5000))
    assert sign_in(client, "staff", "not the password").status_code == 401
    assert sign_in(client, CODE, "not the password").status_code == 401         # a code typed as the user name
    assert sign_in(client, "staff").status_code == 303
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/search").text)})
    rows = log_rows(portal_store.url, before)
    assert [(row[1], row[2]) for row in rows] == [("staff", "sign-in-failed"), ("(unknown name)", "sign-in-failed"),
                                                  ("staff", "sign-in"), ("staff", "sign-out")]
    everything = " ".join(map(str, log_rows(portal_store.url)))
    assert CODE not in everything and CODE_NO_DASH not in everything and "Bērziņš" not in everything


def test_a_refused_sign_in_is_logged(portal_store):
    from pipeline.portal.app import create_app
    from tests.portal.conftest import portal_settings

    app = create_app(portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=1))
    client = TestClient(app, client=("10.5.0.2", 5000))
    before = len(log_rows(portal_store.url))
    assert sign_in(client, "nobody-at-all", "x" * 12).status_code == 401
    assert sign_in(client, "auditor").status_code == 429
    assert [(row[1], row[2]) for row in log_rows(portal_store.url, before)] == [
        ("(unknown name)", "sign-in-failed"), ("auditor", "sign-in-refused")]
