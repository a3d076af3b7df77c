"""The store on the real local PostgreSQL (a database the tests create) and on the embedded SQLite file."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from pipeline.config import Settings
from pipeline.errors import StoreError
from pipeline.flows.monthly import run_month
from pipeline.flows.retention import apply_retention
from pipeline.store.db import record_period
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import fresh_postgres_database

PG_DATABASE = "eikis_test_store"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    result = run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings)
    (root / "run_id").write_text(result.run_id)
    return root


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("runs", "source_files", "household_decisions", "household_members", "recipient_files",
                              "audit_events")}


@pytest.mark.postgres
def test_recording_twice_replaces_the_period_without_duplicates(published):
    url = fresh_postgres_database(PG_DATABASE)
    run_id = (published / "run_id").read_text()
    first = record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
    record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
    stored = counts(url)
    assert stored["household_decisions"] == first["household_decisions"] > 200
    assert stored["household_members"] == first["household_members"]
    assert stored["runs"] == 1 and stored["audit_events"] == 2
    engine = create_engine(url)
    with engine.connect() as conn:
        eligible = conn.execute(text("SELECT count(*) FROM household_decisions WHERE status = 'ELIGIBLE'")).scalar()
        run = conn.execute(text("SELECT eligible, households FROM runs")).one()
        assert eligible == run.eligible
        average = conn.execute(text("SELECT avg_income_eur FROM household_decisions WHERE avg_income_eur IS NOT "
                                    "NULL ORDER BY aris_code LIMIT 1")).scalar()
        assert str(average).count(".") == 1 and len(str(average).split(".")[1]) == 2


@pytest.mark.postgres
def test_a_month_is_swapped_in_whole_analysed_and_searchable_by_address_prefix(published):
    """A re-record replaces the month's partitions (new tables, no dead rows left behind), every attached month
    has planner statistics at once, an address prefix is an index range under the database's own collation, and a
    name token's persons are read from the key alone."""
    url = fresh_postgres_database(PG_DATABASE)
    run_id = (published / "run_id").read_text()
    engine = create_engine(url)
    partitions = ("SELECT c.relname, c.oid, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                  "WHERE i.inhparent = 'household_members'::regclass")
    record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
    with engine.connect() as conn:
        (name, first_oid, tuples), = conn.execute(text(partitions)).all()
    record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
    with engine.connect() as conn:
        (again, second_oid, tuples_again), = conn.execute(text(partitions)).all()
        leftovers = conn.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_load'")).scalar_one()
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.execute(text(
            "EXPLAIN SELECT aris_code FROM portal_households WHERE address_search LIKE 'brivibas%'")))
        by_name = "\n".join(row[0] for row in conn.execute(text(
            "EXPLAIN SELECT person_key, period FROM portal_name_tokens WHERE token_key = 'abcdef0123456789'")))
    engine.dispose()
    assert name == again == "household_members_p2026_11" and second_oid != first_oid and leftovers == 0
    assert tuples == tuples_again == counts(url)["household_members"] > 200
    assert "Index" in plan and "portal_households_p2026_11_address_search" in plan and "~>=~" in plan, plan
    assert "Index Only Scan using portal_name_tokens_p2026_11_pkey" in by_name, by_name


@pytest.mark.postgres
def test_a_failed_recording_leaves_the_previous_state(published, tmp_path):
    url = fresh_postgres_database(PG_DATABASE)
    run_id = (published / "run_id").read_text()
    record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
    before = counts(url)
    broken = tmp_path / "work"
    shutil.copytree(published / "work", broken)
    members = broken / SAMPLE_PERIOD / "decisions" / "members.parquet"
    frame = pd.read_parquet(members)
    frame.loc[0, "person_key"] = None  # violates NOT NULL halfway through the load
    frame.to_parquet(members, index=False)
    with pytest.raises(StoreError, match=r"^the store refused the rows of household_members \(NotNullViolation\)$"):
        record_period(url, SAMPLE_PERIOD, broken, published / "outbox", run_id)
    assert counts(url) == before


def test_embedded_sqlite_store_and_retention_purge(published, tmp_path):
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    run_id = (published / "run_id").read_text()
    old = "2024-11"  # the sample recorded under a month that is 24 months old in 2026-11 and past it in 2026-12
    for folder in ("work", "outbox"):
        shutil.copytree(published / folder / SAMPLE_PERIOD, tmp_path / folder / old)
    record_period(url, old, tmp_path / "work", tmp_path / "outbox", run_id)
    assert counts(url)["household_decisions"] > 200
    assert apply_retention(url, tmp_path / "no-files", "2026-11") == []          # 24 months kept
    deleted = {item.target: item.items for item in apply_retention(url, tmp_path / "no-files", "2026-12")}
    assert deleted["household_decisions"] == 232                               # then deleted (the sample's 232)
    assert counts(url)["household_decisions"] == 0 and counts(url)["runs"] == 1  # the run record stays


@pytest.mark.postgres
def test_copy_from_arrow_stores_exactly_what_the_embedded_store_stores(published, tmp_path):
    """PostgreSQL's COPY fed by Arrow's CSV writer and SQLite's executemany keep the same values: nulls stay
    nulls, empty texts stay empty, amounts keep their cents."""
    run_id = (published / "run_id").read_text()
    urls = {"postgresql": fresh_postgres_database(PG_DATABASE), "sqlite": f"sqlite:///{tmp_path / 'e.sqlite'}"}
    tables = {"household_decisions": "aris_code", "household_members": "person_key, aris_code",
              "portal_persons": "person_key", "portal_name_tokens": "token_key, person_key",
              "portal_households": "aris_code", "portal_review_records": "aris_code, file, record, reason"}
    stored: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    for backend, url in urls.items():
        record_period(url, SAMPLE_PERIOD, published / "work", published / "outbox", run_id)
        engine = create_engine(url)
        with engine.connect() as conn:
            stored[backend] = {table: [tuple(_plain(value) for value in row) for row in conn.execute(
                text(f"SELECT * FROM {table} ORDER BY {order}"))] for table, order in tables.items()}
        engine.dispose()
    for table in tables:
        assert stored["postgresql"][table] == stored["sqlite"][table], table
        assert len(stored["postgresql"][table]) > (10 if table == "portal_review_records" else 200)


def _plain(value: object) -> str:
    """A stored value in one spelling for both databases (numbers to the cent; NULL kept apart from '')."""
    if value is None:
        return "<NULL>"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):  # SQLite keeps 520.00 as 520
        return f"{Decimal(str(value)):.2f}"
    return str(value)
