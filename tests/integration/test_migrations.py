"""The store's schema is applied once, by `eikis db upgrade`, never on connect (issue 20.7).

Real PostgreSQL (a database of the test's own) and real SQLite files; processes are real processes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from pipeline.cli import main
from pipeline.errors import StoreError
from pipeline.store.db import connect
from pipeline.store.ddl import for_dialect, split_statements, sql_dir
from pipeline.store.migrate import head
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
CONNECT_REPEATEDLY = """
import sys
from pipeline.store.db import connect
for _ in range(int(sys.argv[2])):
    connect(sys.argv[1]).dispose()
"""


def connect_in_processes(url: str, processes: int, rounds: int) -> list[subprocess.CompletedProcess[str]]:
    started = [subprocess.Popen([sys.executable, "-c", CONNECT_REPEATEDLY, url, str(rounds)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    finished = []
    for process in started:
        out, err = process.communicate(timeout=300)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return finished


def legacy_store(url: str) -> None:
    """A store as the apply-on-connect code left it: every `sql/` file applied, no version table."""
    engine = create_engine(url)
    with engine.begin() as conn:
        cursor = conn.connection.cursor()
        for path in sorted(sql_dir().glob("00[1-5]_*.sql")):
            for statement in split_statements(for_dialect(path.read_text(encoding="utf-8"), engine.dialect.name)):
                cursor.execute(statement)
    engine.dispose()


@pytest.mark.postgres
def test_processes_connecting_at_once_do_not_fail():
    """The portal and a flow starting together: connecting runs no DDL, so nothing is updated concurrently."""
    url = fresh_postgres_database("eikis_test_migrations")
    results = connect_in_processes(url, processes=4, rounds=15)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr[-600:] for r in results]


@pytest.mark.postgres
def test_connect_applies_no_ddl_and_names_the_upgrade_command():
    url = fresh_postgres_database("eikis_test_migrations", migrated=False)
    with pytest.raises(StoreError, match=r"schema version none, this EIKIS needs .*run `eikis db upgrade`"):
        connect(url)
    dsn = make_url(url).render_as_string(hide_password=False).replace("+psycopg2", "")
    with psycopg2.connect(dsn) as raw, raw.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchone()[0] == 0  # connecting created nothing


@pytest.mark.postgres
def test_run_on_a_store_behind_head_stops_in_one_line_before_any_work(tmp_path, capsys):
    url = fresh_postgres_database("eikis_test_migrations", migrated=False)
    legacy_store(url)
    status = main(["run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(tmp_path / "out"),
                   "--policy", str(DEFAULT_POLICY), "--workdir", str(tmp_path / "work"), "--db", url])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "run `eikis db upgrade`" in err and "Traceback" not in err
    assert not (tmp_path / "out" / SAMPLE_PERIOD).exists()


@pytest.mark.postgres
def test_upgrade_adopts_a_legacy_store_once_and_is_idempotent(capsys):
    url = fresh_postgres_database("eikis_test_migrations", migrated=False)
    legacy_store(url)
    with create_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO audit_events VALUES ('2026-01', '2026-01-01', 'r', 'RECORDED', '{}')"))
    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"upgraded from empty to schema version {head()}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"already at schema version {head()}" in capsys.readouterr().out
    with connect(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1  # data kept


@pytest.mark.postgres
def test_two_upgrades_at_once_both_succeed():
    url = fresh_postgres_database("eikis_test_migrations", migrated=False)
    code = "import sys; from pipeline.cli import main; sys.exit(main(['db', 'upgrade', '--db', sys.argv[1]]))"
    started = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in started]
    assert [status for status, _ in outcomes] == [0, 0, 0], outcomes
    connect(url).dispose()


def test_a_new_embedded_sqlite_store_is_created_at_head_by_processes_at_once(tmp_path):
    """`eikis run`'s default store: a new file in the workdir needs no step before the run, even when two
    processes open it first at the same moment."""
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    results = connect_in_processes(url, processes=3, rounds=3)
    assert [r.returncode for r in results] == [0] * 3, [r.stderr[-600:] for r in results]
    assert oct((tmp_path / "eikis.sqlite").stat().st_mode & 0o777) == "0o600"


def test_an_existing_sqlite_store_behind_head_is_not_upgraded_on_connect(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    legacy_store(url)
    with pytest.raises(StoreError, match="run `eikis db upgrade`"):
        connect(url)
    assert main(["db", "upgrade", "--workdir", str(tmp_path)]) == 0
    connect(url).dispose()


@pytest.mark.postgres
def test_upgrading_to_month_partitions_keeps_every_row():
    """Revision 0005 turns the five tables of a month's personal rows into partitions by period, rows kept; 0009
    gives each month already recorded its partition of the sixth, `portal_review_records`."""
    from alembic import command

    from pipeline.store.migrate import _config

    url = fresh_postgres_database("eikis_test_migrations", migrated=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
        for period in ("2024-09", "2026-11"):
            conn.execute(text("INSERT INTO household_members VALUES (:p, '101000047', :k, 12.34)"),
                         {"p": period, "k": f"key-{period}"})
            conn.execute(text("INSERT INTO portal_households VALUES (:p, '101000047', 'mezmali', '')"), {"p": period})
    assert main(["db", "upgrade", "--db", url]) == 0
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT period, person_key, total_eur FROM household_members ORDER BY 1")).all()
        kinds = {name: kind for name, kind in conn.execute(text(
            "SELECT relname, relkind FROM pg_class WHERE relname IN "
            "('household_members', 'household_members_p2024_09', 'portal_households', 'portal_review_records', "
            "'portal_review_records_p2024_09', 'portal_review_records_p2026_11')"))}
    assert [tuple(map(str, row)) for row in rows] == [("2024-09", "key-2024-09", "12.34"),
                                                      ("2026-11", "key-2026-11", "12.34")]
    assert kinds == {"household_members": "p", "household_members_p2024_09": "r", "portal_households": "p",
                     "portal_review_records": "p", "portal_review_records_p2024_09": "r",
                     "portal_review_records_p2026_11": "r"}
    engine.dispose()


def store_at(revision: str, dialect: str, tmp_path: Path, table: str) -> tuple[str, Engine]:
    """A store migrated to `revision` only, with month 2026-10 of `table` ready for rows (a partition on
    PostgreSQL), to see what a later revision does to months stored before it."""
    from alembic import command

    from pipeline.store.migrate import _config

    url = (f"sqlite:///{tmp_path / 'eikis.sqlite'}" if dialect == "sqlite"
           else fresh_postgres_database("eikis_test_migrations", migrated=False))
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)
        if dialect == "postgresql":
            conn.execute(text(f"CREATE TABLE {table}_p2026_10 PARTITION OF {table} FOR VALUES IN ('2026-10')"))
    return url, engine


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_months_stored_before_name_pairs_get_their_pairs(dialect, tmp_path):
    """Revision 0011 gives every stored person a row per pair of their name tokens, so a name-and-surname search
    finds months recorded before it; a person with one token gets none, and pairs there already are kept."""
    a, b, c = "a" * 16, "b" * 16, "c" * 16
    url, engine = store_at("0010", dialect, tmp_path, "portal_name_tokens")
    with engine.begin() as conn:
        for token, person in ((b, "p1"), (a, "p1"), (c, "p1"), (a, "p2"), (a + c, "p1")):
            conn.execute(text("INSERT INTO portal_name_tokens VALUES ('2026-10', :t, :p)"), {"t": token, "p": person})
    assert main(["db", "upgrade", "--db", url]) == 0
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT token_key, person_key FROM portal_name_tokens WHERE length(token_key) = 32 "
                                 "ORDER BY 1")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(a + b, "p1"), (a + c, "p1"), (b + c, "p1")]


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_record_keys_revision_keeps_the_stored_members_and_drops_the_unused_indexes(dialect, tmp_path):
    """Revision 0012: a month stored before it keeps its members; on PostgreSQL their key leads with the person
    (a search by person reads the key alone); the members-by-person and decisions-by-status indexes are gone."""
    url, engine = store_at("0011", dialect, tmp_path, "household_members")
    with engine.begin() as conn:
        for person, address in (("k2", "a1"), ("k1", "a2"), ("k1", "a1")):
            conn.execute(text("INSERT INTO household_members VALUES ('2026-10', :a, :k, 1.50)"),
                         {"a": address, "k": person})
    assert main(["db", "upgrade", "--db", url]) == 0
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person_key, aris_code FROM household_members ORDER BY 1, 2")).all()
        if dialect == "postgresql":
            key = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                    "WHERE conname = 'household_members_pkey'")).scalar_one()
            indexes = {row[0] for row in conn.execute(text("SELECT indexname FROM pg_indexes"))}
            assert key == "PRIMARY KEY (person_key, aris_code, period)"
        else:
            indexes = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    engine.dispose()
    assert [tuple(row) for row in rows] == [("k1", "a1"), ("k1", "a2"), ("k2", "a1")]
    assert not indexes & {"household_members_by_key", "household_decisions_by_status",
                          "household_members_p2026_10_person_key_idx"}
