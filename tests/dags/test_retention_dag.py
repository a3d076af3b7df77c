"""The retention DAG: thin wiring (apply then verify) and a real `airflow dags test` run on a store and workdir
holding a month older than 24 months."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.flows.retention import RetentionConfig
from pipeline.store.db import connect
from tests.dags.conftest import DAGS


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["eikis_retention"]


def test_apply_runs_before_verify_monthly_in_riga(dag):
    assert set(dag.task_ids) == {"resolve_config", "apply", "verify"}
    assert dag.get_task("verify").upstream_task_ids == {"resolve_config", "apply"}
    assert dag.timetable.expression == "0 3 2 * *" and str(dag.timetable.timezone) == "Europe/Riga"
    assert "When a task fails" in dag.doc_md and set(dag.params) == {"as_of"}


def test_config_defaults_to_the_run_month_and_the_environment():
    config = RetentionConfig.resolve({}, dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC),
                            environ={"EIKIS_DB_URL": "sqlite://", "EIKIS_WORKDIR": "/w", "EIKIS_INBOX": "/in"})
    assert config.to_params() == {"db_url": "sqlite://", "workdir": "/w", "as_of": "2026-12", "inbox": "/in",
                      "claims": "/opt/eikis/claims", "aldis_outbox": "/opt/eikis/aldis_outbox"}  # the deployment's
    assert RetentionConfig.resolve({}, None, environ={"EIKIS_WORKDIR": "/w"}).db_url == "sqlite:////w/eikis.sqlite"


def test_a_first_run_before_any_month_succeeds_with_nothing_to_delete(tmp_path):
    from pipeline.flows.retention import apply_task, verify_task

    config = RetentionConfig.resolve({}, dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
                                     environ={"EIKIS_WORKDIR": str(tmp_path / "w")})
    assert apply_task(config) == {"as_of": "2026-12", "deleted": []}  # before: "unable to open database file"
    assert verify_task(config)["left"] == 0 and (tmp_path / "w").stat().st_mode & 0o777 == 0o700


@pytest.mark.slow
def test_airflow_dags_test_applies_and_verifies(tmp_path):
    workdir, url = tmp_path / "work", f"sqlite:///{tmp_path / 'eikis.sqlite'}"
    for month in ("2024-01", "2026-10"):
        (workdir / month / "staging").mkdir(parents=True)
        (workdir / month / "staging" / "pmlp.parquet").write_bytes(b"personal rows")
        (workdir / month / "report").mkdir()
        with connect(url).begin() as conn:
            conn.execute(text("INSERT INTO household_members (period, aris_code, person_key, total_eur) "
                              "VALUES (:p, '101000047', 'fee1e987871edab5', 1.00)"), {"p": month})
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "EIKIS_DB_URL": url, "EIKIS_WORKDIR": str(workdir)}
    migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    conf = {"as_of": "2026-11"}
    run = subprocess.run([str(bin_dir / "airflow"), "dags", "test", "eikis_retention", "-c", json.dumps(conf)],
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    log = run.stdout + run.stderr
    assert run.returncode == 0 and "state=success" in log, log[-5000:]
    assert not (workdir / "2024-01" / "staging").exists() and not (workdir / "2024-01" / "report").exists()
    assert (workdir / "2026-10" / "staging" / "pmlp.parquet").is_file()
    with connect(url).connect() as conn:
        assert conn.execute(text("SELECT period FROM household_members")).scalars().all() == ["2026-10"]
        logged = conn.execute(text("SELECT month, kind, target, items FROM deletion_log WHERE state = 'COMPLETED' "
                                   "ORDER BY target")).all()
    assert [tuple(row) for row in logged] == [("2024-01", "files", "2024-01/report", 0),
                                              ("2024-01", "files", "2024-01/staging", 1),
                                              ("2024-01", "rows", "household_members", 1)]
