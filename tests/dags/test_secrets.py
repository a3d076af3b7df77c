"""Secrets only where needed, never in XCom, rendered templates, task logs or argv (issue 27, point 2).

The store's password comes from `EIKIS_DB_PASSWORD_FILE` and joins the URL only when the engine is made; every DAG
task fails with the CLI's one data-free line; return values are not logged; and a run of every DAG with test
secrets set leaves none of them in Airflow's metadata (XComs, rendered fields, …), its log files, the runs' output
or any process's command line (that run is `make airflow`'s, in tests/dags/test_make_airflow.py). Airflow's own
history is kept for `EIKIS_AIRFLOW_KEEP_DAYS` only."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
import time

import pytest

from pipeline.config import Deployment
from pipeline.flows.failures import TaskFailed, one_line_errors
from pipeline.flows.upkeep import remove_old_logs
from pipeline.store.db import connect
from tests.dags.every_dag import ORDER
from tests.dags.harness import airflow_env, dags_test
from tests.pg import fresh_postgres_database


@pytest.mark.postgres
def test_the_store_password_joins_the_url_only_when_the_engine_is_made(tmp_path, monkeypatch):
    password = secrets.token_hex(8)
    (tmp_path / "db_password").write_text(password + "\n", encoding="utf-8")
    url = fresh_postgres_database("eikis_test_password")
    monkeypatch.setenv("EIKIS_DB_PASSWORD_FILE", str(tmp_path / "db_password"))
    monkeypatch.setenv("EIKIS_DB_URL", url)
    configured = Deployment.from_env().db_url
    assert password not in configured
    assert connect(configured).url.password == password  # trust auth here: the server accepts what it is given


def test_a_task_fails_with_one_data_free_line():
    @one_line_errors
    def reads_a_record() -> None:
        raise KeyError("010101-12345 Jānis Bērziņš")  # what a bug's message may quote

    @one_line_errors
    def store_down() -> None:
        raise OSError(2, "No such file or directory", "/var/eikis/inbox/2026-11/vid.xml")

    with pytest.raises(TaskFailed) as failed:
        reads_a_record()
    line = str(failed.value)
    assert "010101" not in line and "Jānis" not in line and line.startswith("unexpected KeyError at test_secrets.py:")
    assert failed.value.__cause__ is None and failed.value.__context__ is None  # nothing chained to print
    with pytest.raises(TaskFailed, match=r"^/var/eikis/inbox/2026-11/vid.xml: No such file or directory$"):
        store_down()


def test_every_python_task_is_wrapped_and_returns_nothing_into_its_log(dagbag):
    from airflow.providers.standard.operators.python import PythonOperator

    checked = 0
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            if isinstance(task, PythonOperator) or hasattr(task, "python_callable"):
                assert getattr(task.python_callable, "one_line_errors", False), f"{dag.dag_id}.{task.task_id}"
                assert getattr(task, "show_return_value_in_logs", False) is False, f"{dag.dag_id}.{task.task_id}"
                checked += 1
    assert checked >= 20 and set(ORDER) <= set(dagbag.dags)


def test_old_airflow_log_files_are_removed_and_recent_ones_kept(tmp_path):
    old, recent = tmp_path / "dag_id=x" / "run_id=a" / "1.log", tmp_path / "dag_id=x" / "run_id=b" / "1.log"
    for path in (old, recent):
        path.parent.mkdir(parents=True)
        path.write_text("log\n", encoding="utf-8")
    long_ago = time.time() - 100 * 86400
    os.utime(old, (long_ago, long_ago))
    assert remove_old_logs(tmp_path, dt.datetime.now(dt.UTC) - dt.timedelta(days=90)) == 1
    assert not old.parent.exists() and recent.is_file()


@pytest.mark.slow
def test_the_upkeep_dag_cleans_airflow_history_past_its_horizon(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = airflow_env(tmp_path / "airflow", {"EIKIS_WORKDIR": str(workdir), "EIKIS_AIRFLOW_KEEP_DAYS": "30"})
    first = dags_test("eikis_retention", {"as_of": "2026-11"}, env, 300)
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    metadata = tmp_path / "airflow" / "airflow.db"
    with sqlite3.connect(metadata) as db:  # that run happened 40 days ago
        for table, columns in (("dag_run", ("logical_date", "start_date", "end_date", "run_after")),
                               ("task_instance", ("start_date", "end_date"))):
            db.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = datetime({c}, '-40 days')" for c in columns)
                       + " WHERE dag_id = 'eikis_retention'")
    cleaned = dags_test("airflow_upkeep", {}, env, 300)
    assert cleaned.returncode == 0, (cleaned.stdout + cleaned.stderr)[-3000:]
    with sqlite3.connect(metadata) as db:
        runs = dict(db.execute("SELECT dag_id, count(*) FROM dag_run GROUP BY dag_id").fetchall())
        xcoms = db.execute("SELECT count(*) FROM xcom WHERE dag_id = 'eikis_retention'").fetchone()[0]
    assert runs == {"airflow_upkeep": 1} and xcoms == 0
