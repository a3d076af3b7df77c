"""Retention (CONTRACTS §15) on a store and workdir holding the sample month recorded under old period names:
apply + verify pass, newer months stay whole, recipient files stay, and verify fails when something is left."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.cli import main
from pipeline.flows.monthly import run_month
from pipeline.flows.retention import PERSONAL_TABLES, apply_retention, find_expired, verify_retention
from pipeline.store import deletion_log
from pipeline.store.db import connect, record_period
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import fresh_postgres_database

OLD, BOUNDARY = ("2024-09", "2024-10"), "2024-11"      # as of 2026-11, months before 2024-11 are past 24 months
AS_OF = "2026-11"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, settings_module) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("retention-sample")
    result = run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings_module)
    return root, result.run_id


@pytest.fixture(scope="module")
def settings_module():
    from pipeline.config import Settings

    return Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=True)


def aged_store(sample: tuple[Path, str], root: Path, url: str) -> tuple[Path, Path]:
    """The sample recorded as OLD + BOUNDARY + the real month, files copied under each period name."""
    source, run_id = sample
    workdir, outbox = root / "work", root / "outbox"
    for period in (*OLD, BOUNDARY, SAMPLE_PERIOD):
        shutil.copytree(source / "work" / SAMPLE_PERIOD, workdir / period)
        shutil.copytree(source / "outbox" / SAMPLE_PERIOD, outbox / period)
        record_period(url, period, workdir, outbox, run_id)
    with connect(url).begin() as conn:
        for at in (dt.datetime(2024, 10, 31, 23, 59), dt.datetime(2024, 11, 1, 0, 0), dt.datetime.now()):
            conn.execute(text("INSERT INTO access_log (at, username, action, kind, result_count) "
                              "VALUES (:at, 'staff', 'search', 'code', 1)"), {"at": at})
    return workdir, outbox


def table_periods(url: str) -> dict[str, set[str]]:
    with connect(url).connect() as conn:
        return {table: {row[0] for row in conn.execute(text(f"SELECT DISTINCT period FROM {table}"))}
                for table in (*PERSONAL_TABLES, "runs", "recipient_files")}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_apply_then_verify_deletes_only_months_past_24_and_records_each_deletion(sample, tmp_path, backend, capsys):
    url = (f"sqlite:///{tmp_path / 'eikis.sqlite'}" if backend == "sqlite"
           else fresh_postgres_database("eikis_test_retention"))
    workdir, outbox = aged_store(sample, tmp_path, url)
    args = ["--db", url, "--workdir", str(workdir), "--as-of", AS_OF]

    assert main(["retention", "--verify", *args]) == 1                     # old months are still there
    assert main(["retention", *args]) == 0                                 # listing deletes nothing
    listed = capsys.readouterr().out.splitlines()
    staged_files = sum(f.is_file() for f in (workdir / "2024-09" / "staging").rglob("*"))
    assert f"expired\t2024-09\tfiles\t2024-09/staging\t{staged_files}" in listed
    assert {line.split("\t")[1] for line in listed if line.startswith("expired")} == set(OLD)
    assert (workdir / "2024-09" / "staging").is_dir()

    assert main(["retention", "--apply", *args]) == 0
    assert main(["retention", "--verify", *args]) == 0

    for period in OLD:
        assert sorted(p.name for p in (workdir / period).iterdir()) == ["summaries"]
        assert (outbox / period / "manifest.json").is_file()                # recipient files stay
    for period in (BOUNDARY, SAMPLE_PERIOD):
        assert {"staging", "quarantine", "decisions", "data_docs"} <= {p.name for p in (workdir / period).iterdir()}
    periods = table_periods(url)
    for table in PERSONAL_TABLES:
        assert periods[table] == {BOUNDARY, SAMPLE_PERIOD}, table
    if backend == "postgres":  # an expired month's partitions are detached and dropped whole
        with connect(url).connect() as conn:
            partitions = {row[0] for row in conn.execute(text("SELECT tablename FROM pg_tables WHERE tablename "
                                                              "LIKE 'household_members_p%'"))}
        assert partitions == {"household_members_p2024_11", "household_members_p2026_11"}
    assert periods["runs"] == periods["recipient_files"] == {*OLD, BOUNDARY, SAMPLE_PERIOD}

    engine = connect(url)
    with engine.connect() as conn:
        left = [str(at)[:10] for (at,) in conn.execute(text("SELECT at FROM access_log ORDER BY at"))]
        log = [tuple(row) for row in conn.execute(text(
            "SELECT month, kind, target, items, sha256 FROM deletion_log WHERE state = 'COMPLETED' "
            "ORDER BY month, kind, target"))]
        keys = {row[0] for row in conn.execute(text("SELECT person_key FROM household_members"))}
    assert left[0] == "2024-11-01" and len(left) == 2
    assert ("2024-10", "access_log", "access_log", 1) in [row[:4] for row in log]
    members = [row for row in log if row[2] == "household_members"]
    assert [(m, n) for m, _, _, n, _ in members] == [("2024-09", 481), ("2024-10", 481)]   # 481 counted persons
    assert len(members[0][4]) == 64 and members[0][4] != members[1][4]    # rows differ by their period
    decisions = [row[4] for row in log if row[2].endswith("/decisions")]
    assert len(decisions) == 2 and decisions[0] == decisions[1]            # copied folders: same fingerprint
    assert {row[0] for row in log} == set(OLD)
    assert not any(key in " ".join(map(str, row)) for row in log for key in keys)

    shutil.copytree(workdir / SAMPLE_PERIOD / "quarantine", workdir / "2024-09" / "quarantine")
    assert main(["retention", "--verify", *args]) == 1                     # something left: verify fails
    assert [e.target for e in find_expired(engine, workdir, AS_OF)] == ["2024-09/quarantine"]


@pytest.mark.postgres
def test_a_proof_on_postgresql_is_what_an_auditor_computes_from_a_backup_with_standard_tools(sample, tmp_path):
    """The proof's sha256 of a month's rows is `COPY … TO STDOUT | LC_ALL=C sort | sha256sum` of them (README):
    computed here with psql and coreutils before the month goes, and found in the COMPLETED proof after."""
    url = fresh_postgres_database("eikis_test_retention_proof")
    workdir, _ = aged_store(sample, tmp_path, url)
    database = url.rsplit("/", 1)[1]
    expected = {}
    for table in ("household_members", "portal_name_tokens"):
        copy = f"COPY (SELECT * FROM {table} WHERE period = '2024-09') TO STDOUT"
        expected[table] = subprocess.run(
            f'psql -X -h 127.0.0.1 -U postgres -d {database} -c "{copy}" | LC_ALL=C sort | sha256sum',
            shell=True, check=True, capture_output=True, text=True).stdout.split()[0]
    apply_retention(url, workdir, AS_OF)
    with connect(url).connect() as conn:
        proofs = dict(conn.execute(text("SELECT target, sha256 FROM deletion_log WHERE state = 'COMPLETED' AND "
                                        "month = '2024-09' AND kind = 'rows'")).all())
    assert {table: proofs[table] for table in expected} == expected


def test_no_person_key_is_left_in_an_expired_month_after_apply(sample, tmp_path):
    """The run report lists each REVIEW household's address and member keys: it is deleted with the month."""
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    workdir, _ = aged_store(sample, tmp_path, url)
    with connect(url).connect() as conn:
        keys = {row[0] for row in conn.execute(text("SELECT person_key FROM household_members"))}
    assert any(key in (workdir / "2024-09" / "report" / "report.md").read_text() for key in keys)
    assert main(["retention", "--apply", "--db", url, "--workdir", str(workdir), "--as-of", AS_OF]) == 0
    for period in OLD:
        left = [f for f in (workdir / period).rglob("*") if f.is_file()]
        assert left and not [f for f in left if any(key in f.read_text(errors="replace") for key in keys)]


def test_as_of_later_than_the_current_month_is_refused_and_deletes_nothing(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    current = (tmp_path / "work" / "2026-12" / "staging")  # today's month, which --as-of 2099-01 would expire
    current.mkdir(parents=True)
    (current / "pmlp.parquet").write_bytes(b"personal rows")
    status = main(["retention", "--apply", "--db", url, "--workdir", str(tmp_path / "work"), "--as-of", "2099-01"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "later than the current month" in err
    assert (current / "pmlp.parquet").is_file()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_deletion_log_is_append_only(tmp_path, backend):
    url = (f"sqlite:///{tmp_path / 'eikis.sqlite'}" if backend == "sqlite"
           else fresh_postgres_database("eikis_test_retention"))
    workdir = tmp_path / "work"
    (workdir / "2020-01" / "staging").mkdir(parents=True)
    (workdir / "2020-01" / "staging" / "vid.parquet").write_bytes(b"incomes")
    assert main(["retention", "--apply", "--db", url, "--workdir", str(workdir)]) == 0
    engine = connect(url)
    for statement in ("UPDATE deletion_log SET items = 0", "DELETE FROM deletion_log"):
        with pytest.raises(Exception, match="deletion_log is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        states = conn.execute(text("SELECT state, items FROM deletion_log ORDER BY at, state DESC")).all()
    assert [tuple(row) for row in states] == [("STARTED", 1), ("COMPLETED", 1)]


def test_a_deletion_killed_midway_is_reported_by_verify_until_apply_finishes_it(tmp_path):
    """kill -9 while a month's folder is being removed: the STARTED proof was committed before, so `--verify`
    reports the unfinished deletion; the next `--apply` deletes the rest and completes the proof."""
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    workdir = tmp_path / "work"
    staging = workdir / "2020-01" / "staging"
    for folder in range(60):
        (staging / f"part{folder:02d}").mkdir(parents=True)
        for number in range(500):
            (staging / f"part{folder:02d}" / f"{number}.parquet").write_bytes(b"x")
    args = ["--db", url, "--workdir", str(workdir)]
    connect(url).dispose()
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "retention", "--apply", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with sqlite3.connect(tmp_path / "eikis.sqlite", timeout=5) as db:
            if db.execute("SELECT count(*) FROM deletion_log WHERE state = 'STARTED'").fetchone()[0]:
                break
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(tmp_path / "eikis.sqlite") as db:
        assert db.execute("SELECT state, items FROM deletion_log").fetchall() == [("STARTED", 30000)]
    assert staging.is_dir()                                                # killed before it was all gone
    assert [(e.kind, e.target) for e in verify_retention(url, workdir)] == [
        ("files", "2020-01/staging"), ("unfinished files", "2020-01/staging")]
    assert main(["retention", "--apply", *args]) == 0
    assert verify_retention(url, workdir) == []
    assert not staging.exists()


def test_an_interrupted_deletion_whose_files_went_is_completed_by_the_next_apply(tmp_path):
    """The files were removed but the store failed before COMPLETED: verify reports it; apply proves it done."""
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    engine = connect(url)
    with engine.begin() as conn:
        deletion_log.write(conn, "d1", deletion_log.STARTED, deletion_log.Deletion("2020-01", "files",
                                                                                    "2020-01/staging", 3), "2026-11",
                           "ab" * 32)
    assert [e.kind for e in verify_retention(url, tmp_path)] == ["unfinished files"]
    apply_retention(url, tmp_path)
    assert verify_retention(url, tmp_path) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT deletion_id, state, items FROM deletion_log WHERE state = 'COMPLETED'")
                            ).all() == [("d1", "COMPLETED", 3)]


def test_retention_removes_a_months_inbox_claims_and_aldis_outbox_with_a_proof_row(tmp_path, capsys):
    """§15 v1.2: the raw inputs and the ALDIS outbox of an expired month go too, each with its proof; younger
    months and the published outbox stay."""
    url = f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    roots = {"inbox": tmp_path / "inbox", "claims": tmp_path / "claims", "aldis_outbox": tmp_path / "aldis_outbox"}
    files = {"inbox": "pmlp/persons_01.xml", "claims": "elektrum/claims.csv",
             "aldis_outbox": "t1/protected_contracts.csv"}
    for kind, root in roots.items():
        for month in ("2024-10", BOUNDARY):
            path = root / month / files[kind]
            path.parent.mkdir(parents=True)
            path.write_text(f"{kind} {month} personal")
    args = ["--db", url, "--workdir", str(tmp_path / "work"), "--as-of", AS_OF, "--inbox", str(roots["inbox"]),
            "--claims", str(roots["claims"]), "--aldis-outbox", str(roots["aldis_outbox"])]
    assert main(["retention", "--verify", *args]) == 1
    assert main(["retention", "--apply", *args]) == 0
    assert main(["retention", "--verify", *args]) == 0
    capsys.readouterr()
    for root in roots.values():
        assert sorted(p.name for p in root.iterdir()) == [BOUNDARY]
    with connect(url).connect() as conn:
        proof = conn.execute(text("SELECT kind, month, target, items, sha256 FROM deletion_log "
                                  "WHERE state = 'COMPLETED' ORDER BY kind")).all()
    assert [row[:4] for row in proof] == [(kind, "2024-10", "2024-10", 1)
                                          for kind in ("aldis_outbox", "claims", "inbox")]
    assert all(len(row[4]) == 64 for row in proof)


def test_outboxes_are_written_owner_only(sample):
    source, _ = sample
    published = source / "outbox" / SAMPLE_PERIOD
    modes = {oct(path.stat().st_mode & 0o777) for path in [published, *published.rglob("*")]}
    assert modes == {"0o700", "0o600"}
