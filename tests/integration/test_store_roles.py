"""Separate PostgreSQL roles (issue 20.6): the owner migrates, the application role cannot rewrite the append-only
records (access log, audit events, deletion proofs, payout ledger) even by disabling their triggers, and still
runs a whole month's recording and retention."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.flows.monthly import run_month
from pipeline.flows.retention import PERSONAL_TABLES, apply_retention
from pipeline.store.db import record_period
from pipeline.store.roles import APPEND_ONLY
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import PG_ADMIN

pytestmark = pytest.mark.postgres
SUFFIX = os.environ.get("EIKIS_TEST_DB_SUFFIX", "")
OWNER, APP, DATABASE = f"eikis_test_owner{SUFFIX}", f"eikis_test_app{SUFFIX}", f"eikis_test_roles{SUFFIX}"


def url_as(role: str) -> str:
    return f"postgresql+psycopg2://{role}@127.0.0.1:5432/{DATABASE}"


@pytest.fixture(scope="module")
def store() -> dict[str, str]:
    """A database owned by the owner role, upgraded by `eikis db upgrade` as the owner with the app role named."""
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        for role in (OWNER, APP):
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if not cursor.fetchone():
                cursor.execute(f'CREATE ROLE "{role}" LOGIN')
        cursor.execute(f'CREATE DATABASE "{DATABASE}" OWNER "{OWNER}"')
    admin.close()
    assert main(["db", "upgrade", "--db", url_as(OWNER), "--app-role", APP]) == 0
    return {"owner": url_as(OWNER), "app": url_as(APP)}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("roles")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    result = run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings)
    return root, result.run_id


def as_app(store: dict[str, str], statement: str) -> str | None:
    """Run one statement as the application role; the error's first line, or None when it succeeded."""
    engine = create_engine(store["app"])
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
        return None
    except Exception as exc:  # noqa: BLE001 - the database's refusal is what is asserted
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_the_application_role_cannot_rewrite_an_append_only_table(store, table):
    trigger = {"access_log": "access_log_append_only", "payout_ledger": "payout_ledger_append_only",
               "deletion_log": "deletion_log_append_only", "audit_events": "ALL",
               "claims_checks": "claims_checks_append_only",
               "appeal_decisions": "appeal_decisions_append_only", "appeal_holds": "appeal_holds_append_only"}[table]
    column = "period" if table in ("payout_ledger", "claims_checks") else "at"
    for statement in (f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", f"DELETE FROM {table}",
                      f"UPDATE {table} SET {column} = {column}", f"TRUNCATE {table}", f"DROP TABLE {table}"):
        refusal = as_app(store, statement)
        assert refusal is not None and ("permission denied" in refusal or "must be owner" in refusal), statement
    assert as_app(store, f"SELECT count(*) FROM {table}") is None


def test_the_application_role_cannot_create_objects_or_migrate(store):
    assert "permission denied" in as_app(store, "CREATE TABLE shadow (x int)")
    assert "permission denied" in as_app(store, "UPDATE alembic_version SET version_num = '0001'")


def test_the_application_role_records_a_month_and_writes_the_access_log(store, published):
    root, run_id = published
    loaded = record_period(store["app"], SAMPLE_PERIOD, root / "work", root / "outbox", run_id)
    again = record_period(store["app"], SAMPLE_PERIOD, root / "work", root / "outbox", run_id)  # a re-run replaces
    assert loaded["household_decisions"] > 200
    assert again == {**loaded, "portal_household_ids": 0}  # the opaque ids are kept across re-runs
    assert as_app(store, "INSERT INTO access_log (at, username, action) VALUES (now(), 'anna', 'search')") is None


def test_retention_as_the_application_role_removes_only_expired_access_log_rows(store, tmp_path):
    old, young = dt.datetime(2020, 1, 15), dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = create_engine(store["app"])
    with engine.begin() as conn:
        for at in (old, young):
            conn.execute(text("INSERT INTO access_log (at, username, action) VALUES (:at, 'r', 'search')"),
                         {"at": at})
    deleted = apply_retention(store["app"], tmp_path)
    assert [(item.kind, item.month) for item in deleted if item.kind == "access_log"] == [("access_log", "2020-01")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM access_log WHERE at = :at"), {"at": old}).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM access_log WHERE at = :at"), {"at": young}).scalar_one() == 1
        # the function given any range still removes nothing younger than the horizon
        conn.execute(text("SELECT access_log_purge('1900-01-01', '2999-01-01')"))
        assert conn.execute(text("SELECT count(*) FROM access_log WHERE at = :at"), {"at": young}).scalar_one() == 1
    engine.dispose()


def test_the_application_role_cannot_drop_a_month_within_retention(store, published):
    root, run_id = published
    record_period(store["app"], SAMPLE_PERIOD, root / "work", root / "outbox", run_id)
    refusal = as_app(store, f"SELECT eikis_drop_period_table('household_members', '{SAMPLE_PERIOD}')")
    assert refusal is not None and "within the 24-month retention" in refusal
    assert "must be owner" in as_app(store, f"DROP TABLE household_members_p{SAMPLE_PERIOD.replace('-', '_')}")


def test_retention_as_the_application_role_drops_an_expired_months_partitions(store, published, tmp_path):
    root, run_id = published
    old = "2024-01"
    for folder in ("work", "outbox"):
        shutil.copytree(root / folder / SAMPLE_PERIOD, tmp_path / folder / old)
    record_period(store["app"], old, tmp_path / "work", tmp_path / "outbox", run_id)
    deleted = apply_retention(store["app"], tmp_path / "work")
    assert {item.target for item in deleted if item.kind == "rows" and item.month == old} == set(PERSONAL_TABLES)
    engine = create_engine(store["app"])
    with engine.connect() as conn:
        left = conn.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_p2024\\_01'")).all()
        proofs = conn.execute(text("SELECT count(*) FROM deletion_log WHERE month = :m AND kind = 'rows' "
                                   "AND state = 'COMPLETED'"), {"m": old}).scalar_one()
    engine.dispose()
    assert left == [] and proofs == len(PERSONAL_TABLES)


def test_retention_drops_an_expired_months_empty_partitions_too(store, published, tmp_path):
    """A month with nobody in REVIEW has an empty `portal_review_records` partition, which retention lists no rows
    of: it goes with the month's `household_members` partition, so a re-record of the month could start anew."""
    root, run_id = published
    old = "2024-02"
    for copy in ("first", "again"):                  # retention deletes the first copy's workdir month
        for folder in ("work", "outbox"):
            shutil.copytree(root / folder / SAMPLE_PERIOD, tmp_path / copy / folder / old)
    record_period(store["app"], old, tmp_path / "first" / "work", tmp_path / "first" / "outbox", run_id)
    assert as_app(store, f"DELETE FROM portal_review_records WHERE period = '{old}'") is None
    deleted = apply_retention(store["app"], tmp_path / "first" / "work")
    assert {item.target for item in deleted if item.kind == "rows" and item.month == old} == \
        set(PERSONAL_TABLES) - {"portal_review_records"}
    engine = create_engine(store["app"])
    with engine.connect() as conn:
        left = conn.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_p2024\\_02'")).all()
    engine.dispose()
    assert left == []
    loaded = record_period(store["app"], old, tmp_path / "again" / "work", tmp_path / "again" / "outbox", run_id)
    assert loaded["portal_review_records"] == 13                             # the month's tables made anew
