"""Every security point of CONTRACTS §14 / issue 12, one test each, through FastAPI's TestClient."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.cli import main
from pipeline.config import DEV_DATA_KEY, DEV_SECRET
from pipeline.errors import EikisError
from pipeline.portal.app import create_app
from pipeline.portal.settings import DEV_SESSION_KEY, PortalSettings
from pipeline.portal.users import ROLES, add_user, check_password, disable_user
from pipeline.store.db import connect
from tests.portal.conftest import (
    CODE,
    CODE_NO_DASH,
    KEYS,
    PASSWORD,
    csrf_of,
    household_links,
    portal_settings,
    search,
    sign_in,
)

PAGES = ("/", "/search", "/audit", "/users", "/household/anything", "/audit?format=csv")


def test_everything_but_healthz_and_login_needs_sign_in(app):
    client = TestClient(app)
    routes = {route.path.replace("{household_id}", "anything") for route in app.routes
              if "GET" in getattr(route, "methods", ())}   # POST-only routes: tests/portal/test_appeals.py, /language
    assert routes - {"/healthz", "/login", "/logout"} <= {path.split("?")[0] for path in PAGES}
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    assert client.post("/search", data={"kind": "code", "q": CODE}, follow_redirects=False).status_code in (303, 400)
    assert client.get("/healthz").text == "ok"
    assert client.get("/login").status_code == 200


def test_passwords_are_argon2id_hashes(portal_store):
    with connect(portal_store.url).connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM portal_users WHERE username = 'staff'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    engine = connect(portal_store.url)
    assert check_password(engine, "staff", PASSWORD) is not None
    assert check_password(engine, "staff", PASSWORD + "x") is None


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(portal_store):
    for secure in (False, True):
        client = TestClient(create_app(portal_settings(portal_store.url, EIKIS_PORTAL_SECURE_COOKIE=int(secure))),
                            base_url="https://testserver")
        cookie = sign_in(client, "staff").headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert ("; secure" in cookie) is secure


def test_every_post_needs_the_session_csrf_token(app, signed_in):
    anonymous = TestClient(app)
    anonymous.get("/login")
    refused = anonymous.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": "forged"})
    assert refused.status_code == 400 and "eikis_session" not in refused.headers.get("set-cookie", "x")
    client = signed_in("staff")
    assert client.post("/search", data={"kind": "code", "q": CODE}).status_code == 400
    assert client.post("/search", data={"kind": "code", "q": CODE, "csrf_token": "x"}).status_code == 400
    assert search(client, "code", CODE).status_code == 200


def test_repeated_failures_lock_the_user_out_everywhere(portal_store):
    engine = connect(portal_store.url)
    add_user(engine, "victim", "staff", PASSWORD)
    app = create_app(portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=3))
    attacker = TestClient(app)
    for _ in range(3):
        assert sign_in(attacker, "victim", "wrong password!").status_code == 401
    assert sign_in(attacker, "victim").status_code == 429                  # even the right password now
    assert sign_in(attacker, "auditor").status_code == 303       # not the colleagues behind it (issue 24.4)
    other_client = TestClient(app, client=("10.0.0.9", 5000))
    assert sign_in(other_client, "victim").status_code == 429              # the user is locked out everywhere


def test_roles_are_enforced_on_the_server(signed_in):
    staff, auditor, admin = signed_in("staff"), signed_in("auditor"), signed_in("admin")
    assert staff.get("/audit").status_code == 403 and staff.get("/audit?format=csv").status_code == 403
    assert staff.get("/users").status_code == 403 and auditor.get("/users").status_code == 403
    assert admin.get("/audit").status_code == 403 and admin.get("/users").status_code == 200
    assert auditor.get("/audit").status_code == 200
    assert set(ROLES) == {"staff", "auditor", "admin", "decider"}


def test_a_disabled_user_is_signed_out_at_once(portal_store):
    engine = connect(portal_store.url)
    add_user(engine, "leaver", "staff", PASSWORD)
    client = TestClient(create_app(portal_settings(portal_store.url)))
    assert sign_in(client, "leaver").status_code == 303 and client.get("/search").status_code == 200
    disable_user(engine, "leaver")
    assert client.get("/search", follow_redirects=False).status_code == 303
    assert sign_in(client, "leaver").status_code == 401


def test_no_personal_code_in_urls_logs_or_the_access_log(signed_in, portal_store, caplog):
    caplog.set_level(logging.DEBUG)
    client = signed_in("staff")
    results = search(client, "code", CODE)
    urls = [str(r.url) for r in results.history + [results]] + household_links(results.text)
    view = client.get(household_links(results.text)[0])
    urls.append(str(view.url))
    assert not any(CODE in u or CODE_NO_DASH in u or CODE[:6] in u for u in urls)
    assert CODE not in caplog.text and CODE_NO_DASH not in caplog.text
    with connect(portal_store.url).connect() as conn:
        rows = [" ".join(map(str, row)) for row in conn.execute(text("SELECT * FROM access_log"))]
    assert rows and not any(CODE_NO_DASH in row or CODE[:6] in row or "Bērziņš" in row for row in rows)


@pytest.mark.parametrize("query", [
    "'; DROP TABLE portal_persons; --", "\" OR 1=1 --", "%", "_", "\\", "a" * 10_000, "Ā" * 10_000,
    "\x00" * 50, "010190-1000\x00", "😀 berzins", "<script>alert(1)</script>", "٠١٠١٩٠١٠٠٠١", "",
])
def test_any_search_input_gets_a_page_not_an_error(signed_in, query):
    client = signed_in("staff")
    for kind in ("code", "name", "address", "bogus"):
        response = search(client, kind, query)
        assert response.status_code == 200, (kind, query[:20])
        assert "<script>alert" not in response.text


def test_access_log_records_searches_and_views_filters_and_exports(signed_in, portal_store):
    staff, auditor = signed_in("staff"), signed_in("auditor")
    link = household_links(search(staff, "code", CODE).text)[0]
    staff.get(link)
    search(staff, "name", "nobody nowhere")
    today = dt.datetime.now(ZoneInfo("Europe/Riga")).date().isoformat()     # the filter's days are Riga's
    page = auditor.get(f"/audit?user=staff&since={today}&until={today}&kind=code").text
    assert "<td>personal code</td><td>1</td>" in page
    exported = auditor.get("/audit?user=staff&format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.text), delimiter=";"))
    assert {"search", "view"} <= {row["action"] for row in rows}
    view = next(row for row in rows if row["action"] == "view")
    assert view["household_id"] == link.split("/")[2].split("?")[0] and view["period"] == "2026-11"
    assert any(row["kind"] == "name" and row["result_count"] == "0" for row in rows)
    assert "nobody" not in exported.text
    assert auditor.get("/audit?user=nobody-at-all&format=csv").text.strip().count("\n") == 0
    assert auditor.get("/audit?since=not-a-date").status_code == 400    # a page saying what a date is


def test_access_log_is_append_only_in_sqlite(portal_store):
    engine = connect(portal_store.url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO access_log (at, username, action) VALUES (:at, 'x', 'search')"),
                     {"at": dt.datetime(2020, 1, 1)})
    for statement in ("UPDATE access_log SET username = 'y'", "DELETE FROM access_log WHERE username = 'staff'"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.begin() as conn:       # rows past the 24-month horizon may go (retention)
        assert conn.execute(text("DELETE FROM access_log WHERE username = 'x'")).rowcount == 1


BUILT_IN = {"EIKIS_PSEUDONYM_SECRET": DEV_SECRET, "EIKIS_PORTAL_DATA_KEY": DEV_DATA_KEY,
            "EIKIS_PORTAL_SESSION_KEY": DEV_SESSION_KEY}


@pytest.mark.parametrize("name", sorted(BUILT_IN))
@pytest.mark.parametrize("how", ["unset", "built-in value"])
def test_every_built_in_key_is_refused_outside_dev_mode(name, how):
    environ = {key: value for key, value in KEYS.items() if key != name}
    if how == "built-in value":
        environ[name] = BUILT_IN[name]
    with pytest.raises(EikisError, match=name):
        PortalSettings.from_env("sqlite://", environ=environ)
    allowed = PortalSettings.from_env("sqlite://", environ={**environ, "EIKIS_DEV_MODE": "1"})
    assert allowed.session_key and allowed.pseudonym_secret and allowed.data_key


def test_real_keys_are_taken():
    settings = PortalSettings.from_env("sqlite://", environ=KEYS)
    assert settings.session_key == "test-session-key" and settings.pseudonym_secret == b"test-secret"
    assert settings.data_key == b"test-data-key"


def test_eikis_portal_refuses_to_start_with_a_built_in_session_key(portal_store, monkeypatch, capsys):
    """Issue 20.1: the real secret and data key set, no session key (an unbindable host: never left serving)."""
    monkeypatch.delenv("EIKIS_DEV_MODE", raising=False)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EIKIS_PORTAL_SESSION_KEY")
    assert main(["portal", "--db", portal_store.url, "--host", "192.0.2.1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("eikis: error: ") and "EIKIS_PORTAL_SESSION_KEY" in error and error.count("\n") == 1


def test_login_form_has_username_and_password_and_csrf(app):
    page = TestClient(app).get("/login").text
    assert 'name="username"' in page and 'type="password"' in page and csrf_of(page)
