"""Issue 20.9: sessions end on logout, forwarded headers only from a configured proxy, password hashing off the
event loop, and an out-of-range audit date is a 400 page — each through the real app (uvicorn where it matters)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from pipeline.portal.users import add_user
from pipeline.store.db import connect
from tests.portal.conftest import PASSWORD, csrf_of, portal_settings, running_portal, sign_in


def test_a_copied_cookie_stops_working_after_logout(app):
    owner = TestClient(app)
    assert sign_in(owner, "staff").status_code == 303
    thief = TestClient(app, cookies={"eikis_session": owner.cookies["eikis_session"]})
    assert thief.get("/search", follow_redirects=False).status_code == 200      # the copy works while signed in
    token = csrf_of(owner.get("/search").text)
    assert owner.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    refused = thief.get("/search", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login"
    assert owner.get("/search", follow_redirects=False).status_code == 303


def _sign_in_over_http(base: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = csrf_of(client.get("/login").text)
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           headers=headers).status_code


def test_forwarded_for_is_ignored_unless_the_proxy_is_configured(portal_store):
    """By default a client cannot pick its own address with X-Forwarded-For and escape the per-client limit."""
    settings = portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=3)
    with running_portal(settings) as base:
        statuses = [_sign_in_over_http(base, f"nobody{i}", "wrong password!", f"10.9.0.{i}") for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_forwarded_for_from_the_configured_proxy_names_the_client(portal_store):
    settings = portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=3,
                               EIKIS_PORTAL_TRUSTED_PROXIES="127.0.0.1")
    with running_portal(settings) as base:
        statuses = [_sign_in_over_http(base, f"ghost{i}", "wrong password!", "10.8.0.1") for i in range(4)]
        assert statuses == [401, 401, 401, 429]                    # the forwarded client is locked out ...
        assert _sign_in_over_http(base, "auditor", PASSWORD, "10.8.0.2") == 303     # ... not the proxy's others


def test_healthz_answers_while_thirty_sign_ins_hash_passwords(portal_store):
    engine = connect(portal_store.url)
    for i in range(30):
        add_user(engine, f"crowd{i:02d}", "staff", PASSWORD)
    with running_portal(portal_settings(portal_store.url)) as base:
        clients = [httpx.Client(base_url=base, timeout=120) for _ in range(30)]
        tokens = [csrf_of(client.get("/login").text) for client in clients]
        done: list[float] = []
        started = threading.Barrier(31)

        def one(index: int) -> None:
            started.wait()
            response = clients[index].post("/login", data={"username": f"crowd{index:02d}", "password": PASSWORD,
                                                            "csrf_token": tokens[index]})
            assert response.status_code == 303
            done.append(time.monotonic())

        threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
        for thread in threads:
            thread.start()
        started.wait()
        deadline = time.monotonic() + 120
        while not done and time.monotonic() < deadline:      # the first sign-in is through: the rest are hashing
            time.sleep(0.005)
        with httpx.Client(base_url=base, timeout=120) as probe:
            assert probe.get("/healthz").text == "ok"
        healthz_at = time.monotonic()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
    assert len(done) == 30
    # On the event loop, /healthz waited for (nearly) every hash; in worker threads it answers among the first.
    assert sum(at < healthz_at for at in done) <= 15


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31", "until=0001-01-01", "since=not-a-date",
                                   "until=2026-02-30"])
def test_an_impossible_audit_date_is_a_400_page_with_a_message(signed_in, query, caplog):
    auditor = signed_in("auditor")
    response = auditor.get(f"/audit?{query}")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.text
    assert "Traceback" not in caplog.text
    assert auditor.get(f"/audit?{query}&format=csv").status_code == 400


def test_an_unexpected_failure_is_one_log_line_without_traceback_or_sql(portal_store, tmp_path, caplog):
    """A store error's message quotes the SQL and its parameters: it must not reach the log (issue 20.9)."""
    import logging
    import shutil

    from sqlalchemy import create_engine, text

    copy = tmp_path / "eikis.sqlite"
    shutil.copy(portal_store.url.removeprefix("sqlite:///"), copy)
    caplog.set_level(logging.DEBUG)
    with (running_portal(portal_settings(f"sqlite:///{copy}")) as base,
          httpx.Client(base_url=base, headers={"Accept-Language": "en"}) as client):
        token = csrf_of(client.get("/login").text)
        assert client.post("/login", data={"username": "staff", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 303
        with create_engine(f"sqlite:///{copy}").begin() as conn:
            conn.execute(text("ALTER TABLE portal_household_ids RENAME TO gone"))
        failed = client.get("/household/0123456789abcdef")
    assert failed.status_code == 500 and "logged without its data" in failed.text
    assert not [record for record in caplog.records if record.exc_info]
    assert "Traceback" not in caplog.text and "portal_household_ids" not in caplog.text
    assert "portal: OperationalError on GET /household/0123456789abcdef" in caplog.text
