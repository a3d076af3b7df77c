"""`airflow dags test eikis_claims` with the approval answered: Reject records and delivers nothing; Approve records
the payout in PostgreSQL and delivers each supplier's claim_result.csv and payout.csv to a real loopback SFTP server.

`airflow dags test` parks the ApprovalOperator in `awaiting_input` until a response arrives from outside; the test
answers it from a second process (tests/dags/hitl_responder.py), the way the Required Actions page does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.claims_month import EXPECTED_PAYOUT, HEAT, TRADER, P, build_month
from tests.conftest import DEFAULT_POLICY, ROOT
from tests.pg import fresh_postgres_database
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
RESPONDER = Path(__file__).with_name("hitl_responder.py")


def _dags_test_with_answer(env: dict[str, str], conf: dict[str, str], option: str, user: str = "test-approver",
                           succeeds: bool = True) -> str:
    """`airflow dags test` (triggered by its user `dag_test`) with the approval answered by `user`."""
    bin_dir = Path(sys.executable).parent
    run = subprocess.Popen([str(bin_dir / "airflow"), "dags", "test", "eikis_claims", "-c", json.dumps(conf)],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answer = subprocess.run([sys.executable, str(RESPONDER), "eikis_claims", "approve_payout", option, "300", user],
                            env=env, capture_output=True, text=True, timeout=400, check=False)
    log, _ = run.communicate(timeout=600)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert (run.returncode == 0) == succeeds, log[-5000:]
    return answer.stdout + log


def _task_states(airflow_home: Path) -> dict[str, str]:
    """Task states of the latest run of eikis_claims, from the Airflow metadata DB (SQLite)."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        run_id = db.execute("SELECT run_id FROM dag_run WHERE dag_id = 'eikis_claims' ORDER BY id DESC").fetchone()[0]
        return dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = 'eikis_claims' AND "
                               "run_id = ? AND map_index < 1", (run_id,)).fetchall())


def test_the_claims_dag_waits_for_approval_then_records_and_delivers(tmp_path):
    month = build_month(tmp_path)
    db_url = fresh_postgres_database("eikis_test_claims_dag")
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(json.dumps({
            "endpoints": {"bureau": {"airflow_conn_id": "eikis_sftp"}},
            "recipients": [{"match": "*", "endpoint": "bureau", "remote_dir": "/{recipient}/claims/{period}"}],
        }), encoding="utf-8")
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                                   "login": USER, "password": PASSWORD,
                                                   "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
            "EIKIS_DB_URL": db_url,
            "EIKIS_CLAIMS": str(month["claims"]), "EIKIS_OUTBOX": str(month["published"]),
            "EIKIS_ALDIS_OUTBOX": str(month["aldis"]), "EIKIS_CLAIMS_OUTBOX": str(month["outbox"]),
            "EIKIS_POLICY": str(DEFAULT_POLICY), "EIKIS_WORKDIR": str(tmp_path / "work"),
            "EIKIS_CLAIMS_RECIPIENTS": str(recipients),
            # `dag_test` is the user `airflow dags test` triggers as: an approver, so only four eyes can refuse it
            "EIKIS_CLAIMS_APPROVERS": "test-approver,dag_test",
            "EIKIS_CLAIMS_APPROVAL_HOURS": "2",
        }
        migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True,
                                 text=True, timeout=300, check=False)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        conf = {"period": P, "as_of": "2026-03"}

        rejected = _dags_test_with_answer(env, conf, "Reject")
        assert "| traders_electricity/40000000001 | 63.35 | 48.02 | 0.00 | 48.02 |" in rejected  # the body shown
        assert _task_states(tmp_path / "airflow") == {
            "resolve_config": "success", "check_claims": "success", "approve_payout": "success",
            "record_payout": "skipped", "plan_delivery": "skipped", "deliver": "skipped"}
        with create_engine(db_url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM payout_ledger")).scalar() == 0
        assert not (tmp_path / "sftp" / "payout").exists()
        with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:  # the request went to the approvers only
            assigned = json.loads(db.execute("SELECT assignees FROM hitl_detail").fetchone()[0])
        assert assigned == [{"id": "dag_test", "name": "dag_test"}, {"id": "test-approver", "name": "test-approver"}]

        # four eyes: the user who triggered the run approves it -> refused in record_payout, nothing paid or sent
        own = _dags_test_with_answer(env, conf, "Approve", user="dag_test", succeeds=False)
        assert "user dag_test triggered this run and cannot also approve its payout" in own
        states = _task_states(tmp_path / "airflow")
        assert (states["approve_payout"], states["record_payout"]) == ("success", "failed")
        with create_engine(db_url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM payout_ledger")).scalar() == 0
        assert not (tmp_path / "sftp" / "payout").exists() and not (month["outbox"] / P).exists()

        approved = _dags_test_with_answer(env, conf, "Approve")
        states = _task_states(tmp_path / "airflow")
        assert states["record_payout"] == states["deliver"] == "success", approved[-3000:]
    finally:
        server.stop()

    with create_engine(db_url).connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(
            "SELECT supplier, seq, payout_cents, approved_by FROM payout_ledger ORDER BY supplier"))]
        audit = json.loads(conn.execute(text(
            "SELECT detail FROM audit_events WHERE event = 'PAYOUT_APPROVED'")).scalar_one())
    assert rows == [(HEAT, 1, 1001, "test-approver"), (TRADER, 1, 4802, "test-approver")]
    assert (audit["approved_by"], audit["triggered_by"]) == ("test-approver", "dag_test")
    published = month["outbox"] / P
    assert published.is_symlink() and published.resolve().parent == (month["outbox"] / "runs" / P).resolve()
    assert (tmp_path / "sftp" / "payout" / "claims" / P / "payout.csv").read_text(encoding="utf-8") == EXPECTED_PAYOUT
    for supplier in (TRADER, HEAT):
        delivered = tmp_path / "sftp" / supplier / "claims" / P / "claim_result.csv"
        assert delivered.read_bytes() == (published / supplier / "claim_result.csv").read_bytes()
        assert (delivered.parent / "manifest.json").exists()
