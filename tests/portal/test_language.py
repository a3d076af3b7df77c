"""Issue 24.3: the language is chosen per user and remembered (`portal_users.language`), else the browser's; a
switch while signed out holds for that session only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.store.db import connect
from tests.portal.conftest import csrf_of, new_user, sign_in

ENGLISH, LATVIAN = "Find a household", "Atrast mājsaimniecību"


def browser(app, accept_language: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers={"Accept-Language": accept_language})


def choose(client: TestClient, language: str, page: str = "/search") -> None:
    token = csrf_of(client.get(page).text)
    assert client.post("/language", data={"lang": language, "next": page, "csrf_token": token},
                       follow_redirects=False).status_code == 303


def stored_language(url: str, username: str) -> str | None:
    with connect(url).connect() as conn:
        return conn.execute(text("SELECT language FROM portal_users WHERE username = :u"),
                            {"u": username}).scalar_one()


def test_a_users_choice_follows_them_to_a_fresh_browser(app, portal_store):
    username = new_user(portal_store.url)
    first = browser(app, "lv")
    assert sign_in(first, username).status_code == 303 and LATVIAN in first.get("/search").text
    choose(first, "en")
    assert ENGLISH in first.get("/search").text and stored_language(portal_store.url, username) == "en"
    first.get("/logout")

    fresh = browser(app, "lv-LV,lv;q=0.9")
    assert '<html lang="lv">' in fresh.get("/login").text                   # signed out: the browser's language
    assert sign_in(fresh, username).status_code == 303
    assert ENGLISH in fresh.get("/search").text and '<html lang="en">' in fresh.get("/search").text


def test_without_a_stored_choice_the_browser_decides(app, portal_store):
    username = new_user(portal_store.url)
    for accept_language, expected in (("en-GB,en;q=0.9", ENGLISH), ("lv", LATVIAN)):
        client = browser(app, accept_language)
        assert sign_in(client, username).status_code == 303 and expected in client.get("/search").text
    assert stored_language(portal_store.url, username) is None


def test_a_switch_while_signed_out_holds_for_the_session_only(app, portal_store):
    username = new_user(portal_store.url)
    client = browser(app, "lv")
    choose(client, "en", "/login")
    assert "User name" in client.get("/login").text
    assert sign_in(client, username).status_code == 303 and ENGLISH in client.get("/search").text
    assert stored_language(portal_store.url, username) is None
    later = browser(app, "lv")
    assert sign_in(later, username).status_code == 303 and LATVIAN in later.get("/search").text
