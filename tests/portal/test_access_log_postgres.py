"""On PostgreSQL the access log is append-only by trigger: no UPDATE, no TRUNCATE, and DELETE only of rows older
than the 24-month horizon (what retention removes); and a recorded period carries the portal's rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from pipeline.store.db import connect, record_period
from tests.conftest import SAMPLE_PERIOD
from tests.pg import fresh_postgres_database

pytestmark = pytest.mark.postgres


def test_access_log_refuses_update_delete_and_truncate_of_rows_within_retention():
    engine = connect(fresh_postgres_database("eikis_test_access_log"))
    recent, old = dt.datetime.now() - dt.timedelta(days=400), dt.datetime(2020, 1, 1)
    with engine.begin() as conn:
        for user, at in (("recent", recent), ("old", old)):
            conn.execute(text("INSERT INTO access_log (at, username, action) VALUES (:at, :u, 'search')"),
                         {"at": at, "u": user})
    for statement in ("UPDATE access_log SET username = 'x'",
                      "UPDATE access_log SET username = 'x' WHERE at < '2021-01-01'",
                      "DELETE FROM access_log WHERE username = 'recent'", "DELETE FROM access_log",
                      "TRUNCATE access_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.begin() as conn:
        assert conn.execute(text("DELETE FROM access_log WHERE username = 'old'")).rowcount == 1
        assert conn.execute(text("SELECT username FROM access_log")).scalars().all() == ["recent"]


def test_recording_a_period_on_postgresql_writes_the_portal_index(portal_store):
    url = fresh_postgres_database("eikis_test_portal_index")
    run_id = "test-run"
    loaded = record_period(url, SAMPLE_PERIOD, portal_store.workdir, portal_store.outbox, run_id)
    assert loaded["portal_persons"] == loaded["household_members"] == 481
    assert loaded["portal_households"] == loaded["household_decisions"] == 232
    assert loaded["portal_household_ids"] == 232
    again = record_period(url, SAMPLE_PERIOD, portal_store.workdir, portal_store.outbox, run_id)
    assert again["portal_household_ids"] == 0 and again["portal_persons"] == 481     # replaced, ids kept
    assert loaded["portal_review_records"] == again["portal_review_records"] == 13   # the injected bad records
    with connect(url).connect() as conn:
        names = conn.execute(text("SELECT name_sealed FROM portal_persons")).scalars().all()
        tokens = conn.execute(text("SELECT count(*) FROM portal_name_tokens")).scalar_one()
        review = conn.execute(text("SELECT count(*) FROM portal_review_records_p2026_11")).scalar_one()
    assert review == 13                     # the month's own partition, like its other personal rows
    assert len(names) == 481 and not any("Bērziņš" in n or "Raivis" in n for n in names)
    assert tokens >= 2 * 481 - 10        # given name + surname per person, a few shared tokens aside
