"""Secrets only where needed, never in XCom, rendered templates, task logs or argv (issue 27, point 2).

The store's password comes from `EIKIS_DB_PASSWORD_FILE` and joins the URL only when the engine is made; every DAG
task fails with the CLI's one data-free line; return values are not logged; and a run of every DAG with test
secrets set leaves none of them in Airflow's metadata (XComs, rendered fields, …), its log files, the runs' output
or any process's command line. Airflow's own history is kept for `EIKIS_AIRFLOW_KEEP_DAYS` only."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from pipeline.config import Deployment
from pipeline.flows.failures import TaskFailed, one_line_errors
from pipeline.flows.upkeep import remove_old_logs
from pipeline.store.db import connect
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.dags.every_dag import ORDER, run_every_dag
from tests.dags.harness import airflow_env, dags_test
from tests.pg import fresh_postgres_database
from tests.sftp_server import USER, LoopbackSFTPServer


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


class ArgvWatch:
    """Every process's command line, sampled while the runs go (what `ps` shows to any local user)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    self.seen.add(cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
                except OSError:
                    continue
            time.sleep(0.2)

    def __enter__(self) -> ArgvWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def secret_deployment(tmp_path: Path, server: LoopbackSFTPServer, db_url: str, found: dict[str, str]) -> dict[str, str]:
    """Every path under tmp_path, the store on PostgreSQL with its password in a file, SFTP delivery to the
    loopback server through an Airflow connection (monthly, claims) and a recipients file's password_env
    (ALDIS), and the bureau's secrets set."""
    (tmp_path / "db_password").write_text(found["store password"], encoding="utf-8")
    (tmp_path / "recipients.yaml").write_text(json.dumps({
        "endpoints": {"bureau": {"airflow_conn_id": "eikis_sftp"}},
        "recipients": [{"match": "*", "endpoint": "bureau", "remote_dir": "/{recipient}/{period}"}]}),
        encoding="utf-8")
    (tmp_path / "claims_recipients.yaml").write_text(json.dumps({
        "endpoints": {"bureau": {"airflow_conn_id": "eikis_sftp"}},
        "recipients": [{"match": "*", "endpoint": "bureau", "remote_dir": "/claims/{recipient}/{period}"}]}),
        encoding="utf-8")
    (tmp_path / "aldis_recipients.yaml").write_text(json.dumps({
        "endpoints": {"aldis": {"host": "127.0.0.1", "port": server.port, "username": USER,
                                "password_env": "EIKIS_SFTP_PASSWORD_ALDIS", "host_key": server.host_key_line}},
        "recipients": [{"match": "*", "endpoint": "aldis", "remote_dir": "/aldis/{recipient}/{period}"}]}),
        encoding="utf-8")
    return {
        "EIKIS_INBOX": str(SAMPLE_INBOX), "EIKIS_POLICY": str(DEFAULT_POLICY),
        "EIKIS_TRADERS": str(DEFAULT_POLICY.with_name("traders.yaml")),
        **{f"EIKIS_{name}": str(tmp_path / name.lower()) for name in (
            "OUTBOX", "WORKDIR", "ALDIS_OUTBOX", "CLAIMS", "CLAIMS_OUTBOX", "SIMULATION_OUT")},
        "EIKIS_RECIPIENTS": str(tmp_path / "recipients.yaml"),
        "EIKIS_CLAIMS_RECIPIENTS": str(tmp_path / "claims_recipients.yaml"),
        "EIKIS_ALDIS_RECIPIENTS": str(tmp_path / "aldis_recipients.yaml"),
        "EIKIS_DB_URL": db_url, "EIKIS_DB_PASSWORD_FILE": str(tmp_path / "db_password"),
        "EIKIS_PSEUDONYM_SECRET": found["pseudonym secret"], "EIKIS_PORTAL_DATA_KEY": found["portal data key"],
        "EIKIS_SFTP_PASSWORD_ALDIS": found["sftp password"],
        "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                               "login": USER, "password": found["sftp password"],
                                               "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
    }


@pytest.mark.slow
@pytest.mark.postgres
def test_no_secret_reaches_xcom_rendered_fields_task_logs_or_argv_in_a_run_of_every_dag(tmp_path):
    found = {name: f"{name.split()[0]}-{secrets.token_hex(12)}" for name in (
        "store password", "pseudonym secret", "portal data key", "sftp password")}
    server = LoopbackSFTPServer(tmp_path / "sftp", password=found["sftp password"]).start()
    try:
        deployment = secret_deployment(tmp_path, server, fresh_postgres_database("eikis_test_secrets"), found)
        env = airflow_env(tmp_path / "airflow", deployment)
        with ArgvWatch() as argv:
            logs = run_every_dag(env)
    finally:
        server.stop()
    assert list(logs) == list(ORDER)
    assert (tmp_path / "sftp" / "aldis" / "sopa" / SAMPLE_PERIOD / "sopa_returns.csv").is_file()  # password_env
    assert any((tmp_path / "sftp").glob(f"dso_*/{SAMPLE_PERIOD}/*.csv"))  # the Airflow connection's password

    metadata = sqlite3.connect(tmp_path / "airflow" / "airflow.db")
    xcoms = [str(row[0]) for row in metadata.execute("SELECT value FROM xcom")]
    rendered = [str(row[0]) for row in metadata.execute("SELECT rendered_fields FROM rendered_task_instance_fields")]
    assert len(xcoms) > 20 and any("run_id" in x for x in xcoms) and rendered  # there was something to look at
    task_logs = [p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "airflow").rglob("*.log")]
    stored = [p.read_bytes().decode("utf-8", "replace") for p in (tmp_path / "airflow").rglob("*") if p.is_file()]
    places = {"xcom": xcoms, "rendered fields": rendered, "task log files": task_logs,
              "run output": list(logs.values()), "Airflow home": stored, "argv": sorted(argv.seen)}
    for name, secret in found.items():
        for place, texts in places.items():
            assert not any(secret in text for text in texts), f"the {name} appears in {place}"


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
