"""`airflow dags test` of the sample month in a temporary AIRFLOW_HOME: every task runs for real, files reach a
real SFTP server on loopback (credentials from an AIRFLOW_CONN_* variable), and the run lands in PostgreSQL.
Then the same month against a store whose previous month had fewer electricity records: the anomaly gate fails
its task with the explanation and nothing is published."""

from __future__ import annotations

import json
import os
import sqlite3
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
        assert "Skipping registering function" not in log  # GX's import noise is silenced in the task bodies
        assert f"run report: {tmp_path / 'work' / SAMPLE_PERIOD / 'report' / 'report.html'}" in log

        # the previous month in the store had 400 electricity records (the sample has 305): the gate stops
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO runs SELECT '2026-10', run_id, status, policy_version, policy_digest, "
                              "support_types, persons, households, eligible, review, recorded_at FROM runs"))
            conn.execute(text("INSERT INTO source_summaries SELECT '2026-10', source, CASE WHEN source = "
                              "'electricity' THEN 400 ELSE records END, staged, quarantined, reasons "
                              "FROM source_summaries"))
        conf = {**conf, "outbox": str(tmp_path / "outbox2"), "workdir": str(tmp_path / "work2")}
        gated = dags_test(conf, env, timeout=900)
        gated_log = gated.stdout + gated.stderr
        assert ("anomaly gate: records electricity: 2026-10 400 → 305 (-23.8%), beyond the tolerance ±5.0%"
                in gated_log), gated_log[-5000:]
        assert not (tmp_path / "outbox2" / SAMPLE_PERIOD).exists()
    finally:
        server.stop()

    metadata = sqlite3.connect(tmp_path / "airflow" / "airflow.db")
    events = metadata.execute("SELECT a.uri, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id").fetchall()
    outbox_events = [json.loads(extra) for uri, extra in events if uri == "eikis://outbox/monthly"]
    delivery_events = [json.loads(extra) for uri, extra in events if uri == "eikis://deliveries/monthly"]
    assert [e["period"] for e in outbox_events] == [SAMPLE_PERIOD]
    labels = {row[0] for row in metadata.execute(
        "SELECT rendered_map_index FROM task_instance WHERE task_id = 'deliver' AND state = 'success'")}
    gate_states = [row[0] for row in metadata.execute(
        "SELECT state FROM task_instance WHERE task_id = 'check_anomalies' ORDER BY start_date")]
    assert gate_states == ["success", "failed"]  # the second run's gate is a visible failed task

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
    assert len(delivery_events) == recipients_count
    assert {e["recipient"] for e in delivery_events} == {r for r in labels_to_ids(labels)}
    assert 'AS "Latvenergo" (traders_electricity/40003032949)' in labels  # the company's name labels its delivery
    assert "electricity DSO (dso_electricity)" in labels


def labels_to_ids(labels: set[str]) -> set[str]:
    return {label.rsplit(" (", 1)[1].rstrip(")") for label in labels}
