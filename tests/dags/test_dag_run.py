"""`airflow dags test` of the sample month in a temporary AIRFLOW_HOME: every task runs for real, files reach a
real SFTP server on loopback (credentials from an AIRFLOW_CONN_* variable), and the run lands in PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import DEFAULT_POLICY, ROOT, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import fresh_postgres_database
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


BIN = Path(sys.executable).parent


def airflow_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    """A migrated temporary AIRFLOW_HOME with the repository's dags folder, and the run's variables."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1", **extra}
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


def dags_test(conf: dict[str, str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "airflow"), "dags", "test", "eikis_monthly", "-c", json.dumps(conf)], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_a_manual_run_whose_inbox_is_missing_fails_at_once_instead_of_waiting(tmp_path):
    env = airflow_env(tmp_path, {"EIKIS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}"})
    conf = {"period": "2026-10", "inbox": str(tmp_path / "empty-inbox"), "outbox": str(tmp_path / "outbox"),
            "workdir": str(tmp_path / "work"), "policy": str(DEFAULT_POLICY)}
    run = dags_test(conf, env, timeout=300)  # before: the sensor waited up to 5 days
    log = run.stdout + run.stderr
    assert run.returncode != 0 and "no file yet for aris" in log and "a manual run does not wait" in log, log[-5000:]
    assert not (tmp_path / "outbox").exists()


def test_the_monthly_dag_runs_end_to_end_into_sftp_and_postgres(tmp_path):
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        db_url = fresh_postgres_database("eikis_test_dag")
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(json.dumps({
            "endpoints": {"suppliers": {"airflow_conn_id": "eikis_sftp"}},
            "recipients": [{"match": "*", "endpoint": "suppliers", "remote_dir": "/{recipient}/{period}"}],
        }), encoding="utf-8")
        env = airflow_env(tmp_path, {
            "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                                   "login": USER, "password": PASSWORD,
                                                   "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
            "EIKIS_DB_URL": db_url,
        })
        conf = {"period": SAMPLE_PERIOD, "inbox": str(SAMPLE_INBOX), "outbox": str(tmp_path / "outbox"),
                "workdir": str(tmp_path / "work"), "policy": str(DEFAULT_POLICY), "recipients": str(recipients)}
        run = dags_test(conf, env, timeout=900)
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-5000:]
        assert "state=success" in log, log[-5000:]
    finally:
        server.stop()

    manifest = json.loads((tmp_path / "outbox" / SAMPLE_PERIOD / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        parts = entry["path"].split("/")
        recipient = parts[0] if parts[0].startswith("dso_") else "/".join(parts[:2])
        delivered = tmp_path / "sftp" / recipient / SAMPLE_PERIOD / parts[-1]
        assert delivered.read_bytes() == (tmp_path / "outbox" / SAMPLE_PERIOD / entry["path"]).read_bytes()
        assert (delivered.parent / "manifest.json").exists()

    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT run_id FROM runs WHERE period = :p"), {"p": SAMPLE_PERIOD}).scalar() == \
            manifest["run_id"]
        delivered_rows = conn.execute(text("SELECT count(*) FROM deliveries WHERE status = 'DELIVERED'")).scalar()
        recipients_count = len({r for r in conn.execute(text("SELECT recipient FROM deliveries")).scalars()})
    assert delivered_rows == len(manifest["files"]) + recipients_count  # each file plus one manifest per recipient
