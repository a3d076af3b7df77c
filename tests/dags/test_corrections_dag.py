"""The corrections DAG (CONTRACTS §16): thin wiring, daily or one period, paths from the deployment; and a real
`airflow dags test` run that publishes set 01 of the sample month and delivers it over real SFTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.flows.corrections import resolve_config
from pipeline.store import appeals
from pipeline.store.db import connect
from tests.appeals_month import recorded_sample_month
from tests.conftest import SAMPLE_PERIOD
from tests.dags.conftest import DAGS
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer

ENV = {"EIKIS_DB_URL": "sqlite://", "EIKIS_OUTBOX": "/o", "EIKIS_WORKDIR": "/w", "EIKIS_ALDIS_OUTBOX": "/a"}


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["eikis_corrections"]


def test_publish_then_deliver_daily_in_riga_with_only_a_period_param(dag):
    assert set(dag.task_ids) == {"resolve_config", "publish", "plan_delivery", "deliver"}
    assert dag.get_task("deliver").upstream_task_ids == {"plan_delivery"}
    assert dag.get_task("plan_delivery").upstream_task_ids == {"resolve_config", "publish"}
    assert dag.timetable.expression == "0 6 * * *" and str(dag.timetable.timezone) == "Europe/Riga"
    assert set(dag.params) == {"period"} and "When a task fails" in dag.doc_md


def test_paths_come_from_the_deployment_and_a_period_param_picks_one_month():
    [config] = resolve_config({"period": "2026-11"}, environ=ENV)
    assert config.to_params() == {"period": "2026-11", "db_url": "sqlite://", "published": "/o", "outbox": "/o",
                                  "workdir": "/w", "aldis": "/a", "recipients": None}
    for conf in ({"period": "2026-11", "outbox": "/tmp/elsewhere"}, {"db_url": "postgresql://someone@x/y"}):
        with pytest.raises(ConfigError, match="undeclared key"):
            resolve_config(conf, environ=ENV)
    with pytest.raises(ConfigError, match="real YYYY-MM"):
        resolve_config({"period": "2026-13"}, environ=ENV)


@pytest.mark.slow
def test_airflow_dags_test_publishes_set_01_and_delivers_it(tmp_path):
    root = recorded_sample_month(tmp_path / "m")
    url = f"sqlite:///{root / 'work' / 'eikis.sqlite'}"
    engine = connect(url)
    decision = appeals.register(engine, "sandra", period=SAMPLE_PERIOD, aris_code="101000023", household_id="h",
                                case_ref="BVKB/2026-17", outcome="UPHELD", months=[], reason_code="OTHER")
    appeals.confirm(engine, decision, "dace")
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(yaml.safe_dump({
            "endpoints": {"loopback": {"host": "127.0.0.1", "port": server.port, "username": USER,
                                       "password_env": "EIKIS_SFTP_PASSWORD_LOOPBACK",
                                       "host_key": server.host_key_line, "timeout": 10}},
            "recipients": [{"match": "*", "endpoint": "loopback", "remote_dir": "/out/{recipient}/{period}"}]}))
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
               "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "EIKIS_DB_URL": url, "EIKIS_OUTBOX": str(root / "outbox"),
               "EIKIS_WORKDIR": str(root / "work"), "EIKIS_RECIPIENTS": str(recipients),
               "EIKIS_SFTP_PASSWORD_LOOPBACK": PASSWORD}
        migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True,
                                 text=True, timeout=300, check=False)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        run = subprocess.run([str(bin_dir / "airflow"), "dags", "test", "eikis_corrections"], env=env,
                             capture_output=True, text=True, timeout=600, check=False)
        log = run.stdout + run.stderr
        assert run.returncode == 0 and "state=success" in log, log[-5000:]
        assert (root / "outbox" / SAMPLE_PERIOD / "corrections" / "01" / "manifest.json").is_file()
        delivered = sorted(p.relative_to(server.root / "out").as_posix()
                           for p in (server.root / "out").rglob("changes.csv"))
        assert "dso_electricity/2026-11/corrections/01/changes.csv" in delivered
        assert "municipalities/100010002/2026-11/corrections/01/changes.csv" in delivered
        manifest = json.loads((server.root / "out" / "dso_electricity" / SAMPLE_PERIOD / "corrections" / "01" /
                               "manifest.json").read_text())
        assert manifest["set"] == "01" and manifest["recipient"] == "dso_electricity"
    finally:
        server.stop()
