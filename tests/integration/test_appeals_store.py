"""Appeal decisions in the store (CONTRACTS §16, issue 25): append-only rows on both dialects, four eyes, and the
effective status (an unconfirmed or withdrawn decision changes nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text

from pipeline.store import appeals
from pipeline.store.appeals import AppealError
from pipeline.store.db import connect
from tests.pg import fresh_postgres_database

MONTHS = ("2026-10", "2026-11", "2026-12")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path) -> Engine:
    url = (f"sqlite:///{tmp_path / 'eikis.sqlite'}" if request.param == "sqlite"
           else fresh_postgres_database("eikis_test_appeals"))
    engine = connect(url)
    with engine.begin() as conn:
        for month in MONTHS:
            conn.execute(text(
                "INSERT INTO runs (period, run_id, status, policy_version, policy_digest, support_types, persons, "
                "households, eligible, review, recorded_at) VALUES (:p, 'r', 'PUBLISHED', 'v', 'd', '', 1, 1, 0, 0, "
                ":at)"), {"p": month, "at": dt.datetime(2026, 12, 1)})
    return engine


def register(engine: Engine, *, outcome: str = "UPHELD", months: list[str] | None = None, by: str = "sandra",
             case_ref: str = "BVKB/2026-17") -> str:
    return appeals.register(engine, by, period="2026-11", aris_code="100000001", household_id="h1",
                            case_ref=case_ref, outcome=outcome, months=months or [], reason_code="INCOME_EVIDENCE")


def test_an_unconfirmed_decision_changes_nothing_and_a_confirmed_one_makes_the_months_eligible(engine):
    decision = register(engine, months=["2026-12"])
    assert appeals.upheld(engine, "2026-11") == {}
    appeals.confirm(engine, decision, "dace")
    for month in ("2026-11", "2026-12"):
        found = appeals.upheld(engine, month)
        assert list(found) == ["100000001"] and found["100000001"].case_ref == "BVKB/2026-17"
        assert appeals.effective_status("NOT_ELIGIBLE", found["100000001"]) == ("ELIGIBLE", "APPEAL_UPHELD")
    assert appeals.upheld(engine, "2026-10") == {}
    assert appeals.effective_status("NOT_ELIGIBLE", None) == ("NOT_ELIGIBLE", "")


def test_the_registering_user_cannot_confirm_or_send_back_their_own_decision(engine):
    decision = register(engine)
    for step in (appeals.confirm, appeals.send_back):
        with pytest.raises(AppealError, match="cannot .* it \\(four eyes\\)"):
            step(engine, decision, "sandra")
    assert appeals.get(engine, decision).state == "REGISTERED"


def test_a_decision_is_reviewed_once_and_a_withdrawal_is_a_new_row(engine):
    decision = register(engine)
    assert appeals.send_back(engine, decision, "dace").state == "SENT_BACK"
    with pytest.raises(AppealError, match="is SENT_BACK, not waiting"):
        appeals.confirm(engine, decision, "ilze")
    assert appeals.upheld(engine, "2026-11") == {}
    second = register(engine, case_ref="BVKB/2026-18")
    appeals.confirm(engine, second, "dace")
    assert appeals.withdraw(engine, second, "sandra").state == "WITHDRAWN"
    assert appeals.upheld(engine, "2026-11") == {}
    with engine.connect() as conn:
        actions = [row[0] for row in conn.execute(text(
            "SELECT action FROM appeal_decisions WHERE decision_id = :d ORDER BY stage"), {"d": second})]
    assert actions == ["REGISTERED", "CONFIRMED", "WITHDRAWN"]
    assert [a.state for a in appeals.history(engine, "100000001")] == ["SENT_BACK", "WITHDRAWN"]


def test_rejected_changes_nothing_and_bad_input_is_refused_in_one_line(engine):
    appeals.confirm(engine, register(engine, outcome="REJECTED"), "dace")
    assert appeals.upheld(engine, "2026-11") == {}
    for kwargs, reason in (({"case_ref": "310166-12345 Bērziņš"}, "case reference"),
                           ({"outcome": "MAYBE"}, "outcome"), ({"months": ["2027-01"]}, "not a decided month"),
                           ({"months": ["2026-10"]}, "not a decided month")):
        with pytest.raises(AppealError, match=reason) as refused:
            register(engine, **kwargs)
        assert "\n" not in str(refused.value)


@pytest.mark.parametrize("table", ["appeal_decisions", "appeal_holds"])
def test_the_appeal_tables_are_append_only(engine, table):
    register(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO appeal_holds (at, username, case_ref, action) "
                          "VALUES (:at, 'sandra', 'BVKB/2026-17', 'HOLD')"), {"at": dt.datetime(2026, 12, 2)})
    for statement in (f"UPDATE {table} SET username = 'mallory'", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match=f"{table} is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1
