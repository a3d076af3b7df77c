"""`airflow dags test` of the sample month in a temporary AIRFLOW_HOME: every task runs for real, files reach a
real SFTP server on loopback (credentials from an AIRFLOW_CONN_* variable), and the run lands in PostgreSQL.
Then the same month against a store whose previous month had fewer electricity records: the anomaly gate fails
its task with the explanation and nothing is published."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.dags.harness import airflow_env, dags_test
from tests.pg import fresh_postgres_database
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def deployment(tmp_path: Path, outbox: str = "outbox", workdir: str = "work") -> dict[str, str]:
    """The deployment's settings of these runs (a run's config carries the period only)."""
    return {"EIKIS_INBOX": str(SAMPLE_INBOX), "EIKIS_OUTBOX": str(tmp_path / outbox),
            "EIKIS_WORKDIR": str(tmp_path / workdir), "EIKIS_POLICY": str(DEFAULT_POLICY)}


def test_a_manual_run_whose_inbox_is_missing_fails_at_once_instead_of_waiting(tmp_path):
    env = airflow_env(tmp_path / "airflow", {**deployment(tmp_path), "EIKIS_INBOX": str(tmp_path / "empty-inbox"),
                                             "EIKIS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}"})
    run = dags_test("eikis_monthly", {"period": "2026-10"}, env, timeout=300)  # before: the sensor waited 5 days
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
        env = airflow_env(tmp_path / "airflow", {
            **deployment(tmp_path), "EIKIS_RECIPIENTS": str(recipients),
            "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                                   "login": USER, "password": PASSWORD,
                                                   "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
            "EIKIS_DB_URL": db_url,
        })
        run = dags_test("eikis_monthly", {"period": SAMPLE_PERIOD}, env, timeout=900)
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-5000:]
        assert "state=success" in log, log[-5000:]
        assert "Skipping registering function" not in log  # GX's import noise is silenced in the task bodies
        assert log.count("anomaly gate: no decided month before") == 1, log[-5000:]  # check_anomalies, not publish
        assert f"run report: {tmp_path / 'work' / SAMPLE_PERIOD / 'report' / 'report.html'}" in log

        # the previous month in the store had 400 electricity records (the sample has 305): the gate stops
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO runs SELECT '2026-10', run_id, status, policy_version, policy_digest, "
                              "support_types, persons, households, eligible, review, recorded_at FROM runs"))
            conn.execute(text("INSERT INTO source_summaries SELECT '2026-10', source, CASE WHEN source = "
                              "'electricity' THEN 400 ELSE records END, staged, quarantined, reasons "
                              "FROM source_summaries"))
        elsewhere = {**env, **deployment(tmp_path, "outbox2", "work2")}
        gated = dags_test("eikis_monthly", {"period": SAMPLE_PERIOD}, elsewhere, timeout=900)
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
