"""The ALDIS DAG: structure and calendar (tests without a metadata DB), and a real `airflow dags test` run that
publishes the sample month and delivers every production trader's file and SOPA's returns into a loopback SFTP
server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.flows.aldis import RIGA, AldisConfig, delivery_time, previous_month
from tests.conftest import ROOT, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.dags.conftest import DAGS
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["aldis_protected_users"]


def test_tasks_and_wiring(dag):
    assert set(dag.task_ids) == {"resolve_config", "build_outbox", "deliver_returns_to_sopa",
                                 "wait_for_delivery_day", "plan_trader_deliveries", "deliver_to_traders"}
    assert dag.get_task("wait_for_delivery_day").upstream_task_ids == {"build_outbox"}
    assert dag.get_task("plan_trader_deliveries").upstream_task_ids >= {"wait_for_delivery_day"}
    assert dag.get_task("deliver_to_traders").upstream_task_ids >= {"plan_trader_deliveries"}
    assert "wait_for_delivery_day" not in dag.get_task("deliver_returns_to_sopa").upstream_task_ids


def test_the_wait_is_deferrable_and_deliveries_are_labelled_and_retried(dag):
    from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync

    assert isinstance(dag.get_task("wait_for_delivery_day"), DateTimeSensorAsync)
    deliver = dag.get_task("deliver_to_traders")
    assert deliver.map_index_template == "{{ trader_name }}"
    for task_id in ("deliver_to_traders", "deliver_returns_to_sopa"):
        assert dag.get_task(task_id).retries >= 3
    for task_id in ("resolve_config", "build_outbox", "plan_trader_deliveries"):
        assert dag.get_task(task_id).retries == 0


def test_schedule_is_the_5th_in_riga_and_documented(dag):
    assert dag.timetable.expression == "0 0 5 * *" and str(dag.timetable.timezone) == "Europe/Riga"
    assert "When a task fails" in dag.doc_md and "aldis" in dag.tags and not dag.catchup
    assert set(dag.params) == {"period", "wait_for_delivery_day"}
    source = (DAGS / "aldis_protected_users.py").read_text(encoding="utf-8").split("def aldis_protected_users")[0]
    for heavy in ("import pandas", "datetime.now", "open("):
        assert heavy not in source


def test_the_calendar_run_on_the_5th_is_for_the_previous_month_delivered_on_the_7th():
    # 5 Dec 00:00 Riga = 4 Dec 22:00 UTC: still the run for November
    assert previous_month(dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)) == "2026-11"
    assert previous_month(dt.datetime(2027, 1, 5, 0, 0, tzinfo=RIGA)) == "2026-12"
    assert delivery_time("2026-12") == dt.datetime(2027, 1, 7, tzinfo=RIGA)
    config = AldisConfig.resolve({}, dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC), environ={})
    assert config.period == "2026-11" and config.wait_until == "2026-12-07T00:00:00+02:00"
    manual = AldisConfig.resolve({"period": "2026-11", "wait_for_delivery_day": False}, None, environ={})
    assert manual.wait_until == "2026-11-01T00:00:00+02:00"  # already past: the wait ends at once


@pytest.mark.slow
def test_airflow_dags_test_delivers_every_production_trader_and_the_returns(tmp_path):
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(json.dumps({
            "endpoints": {"aldis": {"airflow_conn_id": "aldis_sftp"}},
            "recipients": [{"match": "traders/*", "endpoint": "aldis", "remote_dir": "/{recipient}/{period}"},
                           {"match": "sopa", "endpoint": "aldis", "remote_dir": "/sopa/{period}"}],
        }), encoding="utf-8")
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW_CONN_ALDIS_SFTP": json.dumps({"conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
                                                   "login": USER, "password": PASSWORD,
                                                   "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
            "EIKIS_DATA_DOCS": "0",
            "EIKIS_WORKERS": "1",
            "EIKIS_INBOX": str(SAMPLE_INBOX), "EIKIS_ALDIS_OUTBOX": str(tmp_path / "outbox"),
            "EIKIS_WORKDIR": str(tmp_path / "work"), "EIKIS_TRADERS": str(ROOT / "policy" / "traders.yaml"),
            "EIKIS_ALDIS_RECIPIENTS": str(recipients),
        }
        migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                                 timeout=300, check=False)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        conf = {"period": SAMPLE_PERIOD, "wait_for_delivery_day": False}
        run = subprocess.run([str(bin_dir / "airflow"), "dags", "test", "aldis_protected_users", "-c",
                              json.dumps(conf)], env=env, capture_output=True, text=True, timeout=900, check=False)
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-5000:]
        assert "state=success" in log, log[-5000:]
    finally:
        server.stop()

    published = tmp_path / "outbox" / SAMPLE_PERIOD
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    delivered = sorted(str(p.relative_to(tmp_path / "sftp")) for p in (tmp_path / "sftp").rglob("*.csv"))
    assert delivered == sorted([f"sopa/{SAMPLE_PERIOD}/sopa_returns.csv"] + [
        f"{path.rsplit('/', 1)[0]}/{SAMPLE_PERIOD}/protected_contracts.csv"
        for path in manifest["files"] if path.startswith("traders/") and path.endswith(".csv")])
    for path in manifest["files"]:
        folder = "sopa" if path == "sopa_returns.csv" else path.rsplit("/", 1)[0]
        remote = tmp_path / "sftp" / folder / SAMPLE_PERIOD / path.rsplit("/", 1)[-1]
        assert remote.read_bytes() == (published / path).read_bytes()
        own = json.loads((remote.parent / "manifest.json").read_text(encoding="utf-8"))
        siblings = [other.rsplit("/", 1)[-1] for other in manifest["files"]   # a file and its .xlsx companion
                    if ("sopa" if other == "sopa_returns.csv" else other.rsplit("/", 1)[0]) == folder]
        assert list(own["files"]) == siblings and own["run_id"] == manifest["run_id"]
    assert not (tmp_path / "sftp" / "traders" / "40103243453").exists()  # Enefit: test environment only
