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


def test_the_monthly_dag_runs_end_to_end_into_sftp_and_postgres(tmp_path):
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        db_url = fresh_postgres_database("eikis_test_dag")
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(json.dumps({
            "endpoints": {"suppliers": {"airflow_conn_id": "eikis_sftp"}},
            "recipients": [{"match": "*", "endpoint": "suppliers", "remote_dir": "/{recipient}/{period}"}],
        }), encoding="utf-8")
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                                   "login": USER, "password": PASSWORD}),
            "EIKIS_DB_URL": db_url,
            "EIKIS_DATA_DOCS": "0",
            "EIKIS_WORKERS": "1",
        }
        migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                                 timeout=300, check=False)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        conf = {"period": SAMPLE_PERIOD, "inbox": str(SAMPLE_INBOX), "outbox": str(tmp_path / "outbox"),
                "workdir": str(tmp_path / "work"), "policy": str(DEFAULT_POLICY), "recipients": str(recipients)}
        run = subprocess.run([str(bin_dir / "airflow"), "dags", "test", "eikis_monthly", "-c", json.dumps(conf)],
                             env=env, capture_output=True, text=True, timeout=900, check=False)
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
