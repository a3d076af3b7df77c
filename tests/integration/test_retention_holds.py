"""Court holds (CONTRACTS §16 / §15, issue 25): a held case keeps its households' rows of the months it covers
through retention, `--verify` lists the hold, and a released hold makes the rows go at the next run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from pipeline.cli import main
from pipeline.flows.retention import PERSONAL_TABLES, apply_retention
from pipeline.store import appeals
from pipeline.store.db import connect
from tests.integration.test_retention import AS_OF, OLD, aged_store, sample, settings_module  # noqa: F401
from tests.integration.test_store_roles import store  # noqa: F401 - the owner and application roles' database
from tests.pg import fresh_postgres_database

CASE = "BVKB/2024-5"


def rows_of(url: str, aris_code: str) -> dict[str, set[str]]:
    """Per personal table, the months holding rows of the household (name tokens by its persons)."""
    with connect(url).connect() as conn:
        found = {table: {row[0] for row in conn.execute(text(
            f"SELECT DISTINCT period FROM {table} WHERE aris_code = :a"), {"a": aris_code})}
            for table in PERSONAL_TABLES if table != "portal_name_tokens"}
        found["portal_name_tokens"] = {row[0] for row in conn.execute(text(
            "SELECT DISTINCT t.period FROM portal_name_tokens t JOIN portal_persons p ON p.period = t.period "
            "AND p.person_key = t.person_key WHERE p.aris_code = :a"), {"a": aris_code})}
    return found


def appeal_cases(url: str) -> list[str]:
    with connect(url).connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT DISTINCT case_ref FROM appeal_decisions ORDER BY 1"))]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_hold_keeps_the_case_rows_until_released(sample, tmp_path, backend, capsys):  # noqa: F811
    url = (f"sqlite:///{tmp_path / 'eikis.sqlite'}" if backend == "sqlite"
           else fresh_postgres_database("eikis_test_holds"))
    workdir, _ = aged_store(sample, tmp_path, url)
    args = ["--db", url, "--workdir", str(workdir), "--as-of", AS_OF]
    engine = connect(url)
    with engine.connect() as conn:
        held_code, other_code = [row[0] for row in conn.execute(text(    # REVIEW: rows in every personal table
            "SELECT m.aris_code FROM household_members m JOIN portal_persons p ON p.period = m.period AND "
            "p.person_key = m.person_key JOIN portal_review_records r ON r.period = m.period AND "
            "r.aris_code = m.aris_code WHERE m.period = :p GROUP BY m.aris_code ORDER BY m.aris_code LIMIT 2"),
            {"p": OLD[0]})]
    appeals.register(engine, "sandra", period=OLD[0], aris_code=held_code, household_id="h", case_ref=CASE,
                     outcome="UPHELD", months=[OLD[1]], reason_code="OTHER")
    appeals.register(engine, "sandra", period=OLD[0], aris_code=other_code, household_id="h2", case_ref="BVKB/2024-6",
                     outcome="REJECTED", months=[], reason_code="OTHER")
    assert main(["retention", "--hold", "BVKB/none", *args]) == 2          # no such case: refused, one line
    assert "no appeal decision with case reference" in capsys.readouterr().err
    assert main(["retention", "--hold", CASE, *args]) == 0
    assert f"case {CASE} on hold" in capsys.readouterr().out

    assert main(["retention", "--apply", *args]) == 0
    capsys.readouterr()
    assert main(["retention", "--verify", *args]) == 0                      # what is held is not "left"
    assert f"HELD\t{CASE}\t{OLD[0]}|{OLD[1]}\t1 household(s)" in capsys.readouterr().out.splitlines()
    assert rows_of(url, held_code) == {table: {*OLD, "2024-11", "2026-11"} for table in PERSONAL_TABLES}
    assert rows_of(url, other_code) == {table: {"2024-11", "2026-11"} for table in PERSONAL_TABLES}
    assert appeal_cases(url) == [CASE]      # the unheld case's appeal rows (personal data of 2024-09) went

    assert main(["retention", "--release", CASE, *args]) == 0
    assert main(["retention", "--verify", *args]) == 1                      # released: now past retention
    assert "HELD" not in capsys.readouterr().out
    assert main(["retention", "--apply", *args]) == 0
    assert main(["retention", "--verify", *args]) == 0
    assert rows_of(url, held_code) == {table: {"2024-11", "2026-11"} for table in PERSONAL_TABLES}
    assert appeal_cases(url) == []
    with engine.connect() as conn:
        actions = [row[0] for row in conn.execute(text("SELECT action FROM appeal_holds ORDER BY at"))]
    assert actions == ["HOLD", "RELEASE"]


@pytest.mark.postgres
def test_the_application_role_purges_only_expired_unheld_appeal_rows(store, tmp_path):  # noqa: F811
    """On PostgreSQL the application role cannot DELETE appeal rows; retention removes them through the owner's
    `appeal_decisions_purge`, which spares young months and held cases."""
    engine = create_engine(store["app"])
    columns = ("event_id", "decision_id", "stage", "action", "at", "username", "period", "aris_code", "household_id",
               "case_ref", "outcome", "months", "reason_code")
    with engine.begin() as conn:
        for event, months, case in (("old", "2020-01", "OLD/1"), ("held", "2020-01", "HELD/1"),
                                    ("young", "2026-11", "YOUNG/1")):
            conn.execute(text(f"INSERT INTO appeal_decisions ({', '.join(columns)}) VALUES "
                              f"({', '.join(':' + c for c in columns)})"),
                         {"event_id": event, "decision_id": event, "stage": 0, "action": "REGISTERED",
                          "at": dt.datetime(2020, 1, 5), "username": "s", "period": months[:7], "aris_code": "1",
                          "household_id": "h", "case_ref": case, "outcome": "UPHELD", "months": months,
                          "reason_code": "OTHER"})
        conn.execute(text("INSERT INTO appeal_holds (at, username, case_ref, action) VALUES (now(), 's', 'HELD/1', "
                          "'HOLD')"))
    deleted = apply_retention(store["app"], tmp_path)
    assert [(item.kind, item.month, item.items) for item in deleted if item.kind == "appeals"] == [
        ("appeals", "2020-01", 1)]
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT case_ref FROM appeal_decisions")).scalars()) == ["HELD/1", "YOUNG/1"]
    engine.dispose()
