"""`make airflow` is a working demo (issue 22, point 2): `scripts/airflow_demo.py` runs `airflow standalone` in dev
mode with every flow's paths under OUT (absolute or relative), the UI port a variable (the execution API URL
follows it), no scheduled runs queued ahead of a manual one, and a loopback SFTP server beside it whose host key is
in the `eikis_sftp` connection the demo recipients files name. The headless run below drives the same deployment:
every DAG succeeds on its first trigger with only a month — and, with the bureau's secrets set and the store on
PostgreSQL with its password in a file, none of those secrets reaches XCom, a rendered field, a task log, the
runs' output or any process's command line (issue 27, point 2)."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_PERIOD
from tests.dags.every_dag import ORDER, run_every_dag
from tests.dags.harness import BIN, migrated
from tests.pg import fresh_postgres_database
from tests.sftp_server import USER, LoopbackSFTPServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import airflow_demo  # noqa: E402 - scripts/ is not a package


def recipe(*variables: str) -> str:
    dry = subprocess.run(["make", "-n", "-s", "-o", ".venv/bin/.installed", "airflow", *variables], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)  # -o: never set up here
    return dry.stdout.replace("\\\n", " ").strip()


def test_make_airflow_runs_the_demo_with_out_made_absolute_and_the_port_a_variable(tmp_path):
    assert recipe(f"OUT={tmp_path}", "AIRFLOW_PORT=8123") == \
        f'.venv/bin/python scripts/airflow_demo.py --out "{tmp_path}" --port 8123'  # before: main//abs/path
    assert recipe("OUT=var/demo") == f'.venv/bin/python scripts/airflow_demo.py --out "{ROOT}/var/demo" --port 8080'


def test_the_demo_deployment_puts_every_path_under_out_and_wires_the_sftp_host_key(tmp_path):
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        env = airflow_demo.deployment(tmp_path / "out", 8123, server, {"PATH": "/usr/bin:/bin",
                                                                       "EIKIS_INBOX": str(tmp_path / "mine")})
    finally:
        server.stop()
    assert env["PATH"].startswith(f"{BIN}:") and env["EIKIS_DEV_MODE"] == "1"
    assert env["AIRFLOW__API__PORT"] == "8123"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:8123/execution/"
    assert env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"  # unpausing queues no scheduled run
    assert env["EIKIS_CLAIMS_APPROVERS"] == "approver"  # four eyes: admin triggers, approver approves
    assert "approver:admin" in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
    assert env["EIKIS_INBOX"] == str(tmp_path / "mine")  # a variable set in the shell wins
    for name in ("EIKIS_OUTBOX", "EIKIS_WORKDIR", "EIKIS_ALDIS_OUTBOX", "EIKIS_CLAIMS", "EIKIS_CLAIMS_OUTBOX",
                 "EIKIS_SIMULATION_OUT", "AIRFLOW_HOME"):
        assert Path(env[name]).is_relative_to(tmp_path / "out"), name
    for name in ("EIKIS_RECIPIENTS", "EIKIS_ALDIS_RECIPIENTS", "EIKIS_CLAIMS_RECIPIENTS", "EIKIS_TRADERS"):
        assert Path(env[name]).is_file(), name
    connection = json.loads(env["AIRFLOW_CONN_EIKIS_SFTP"])
    assert connection["port"] == server.port and connection["extra"]["host_key"] == server.host_key_line


def test_sample_claims_wait_until_both_the_month_and_aldis_are_published(tmp_path):
    env = {"EIKIS_OUTBOX": str(tmp_path / "outbox"), "EIKIS_CLAIMS": str(tmp_path / "claims"),
           "EIKIS_ALDIS_OUTBOX": str(tmp_path / "aldis"), "EIKIS_POLICY": str(ROOT / "policy" / "eikis_policy.yaml")}
    (tmp_path / "outbox" / SAMPLE_PERIOD).mkdir(parents=True)
    (tmp_path / "outbox" / SAMPLE_PERIOD / "manifest.json").write_text("{}", encoding="utf-8")
    assert airflow_demo.supply_sample_claims(env) == []  # the claims check would refuse without ALDIS's month
    assert not (tmp_path / "claims").exists()


def test_the_loopback_sftp_server_has_an_entry_point(tmp_path):
    served = subprocess.Popen([sys.executable, "-m", "tests.sftp_server", str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        first, second = served.stdout.readline(), served.stdout.readline()
    finally:
        served.terminate()
        served.wait(timeout=30)
    assert first.startswith(f"sftp://{USER}@127.0.0.1:") and second.startswith("host_key: ssh-ed25519 AAAA")


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


def with_bureau_secrets(env: dict[str, str], tmp_path: Path, server: LoopbackSFTPServer,
                        found: dict[str, str]) -> dict[str, str]:
    """The demo's deployment with real secrets: the pseudonym and portal keys, the store on PostgreSQL with its
    password in a file, and ALDIS delivering through a recipients file's password_env (the others through the
    demo's Airflow connection, whose password is the server's)."""
    (tmp_path / "db_password").write_text(found["store password"], encoding="utf-8")
    aldis = tmp_path / "aldis_recipients.yaml"
    aldis.write_text(json.dumps({
        "endpoints": {"aldis": {"host": "127.0.0.1", "port": server.port, "username": USER,
                                "password_env": "EIKIS_SFTP_PASSWORD_ALDIS", "host_key": server.host_key_line}},
        "recipients": [{"match": "*", "endpoint": "aldis", "remote_dir": "/aldis/{recipient}/{period}"}]}),
        encoding="utf-8")
    return {**env, "EIKIS_DB_URL": fresh_postgres_database("eikis_test_make_airflow"),
            "EIKIS_DB_PASSWORD_FILE": str(tmp_path / "db_password"), "EIKIS_ALDIS_RECIPIENTS": str(aldis),
            "EIKIS_PSEUDONYM_SECRET": found["pseudonym secret"], "EIKIS_PORTAL_DATA_KEY": found["portal data key"],
            "EIKIS_SFTP_PASSWORD_ALDIS": found["sftp password"], "EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1"}


@pytest.mark.slow
@pytest.mark.postgres
def test_every_dag_succeeds_on_its_first_trigger_with_only_a_month_and_no_secret_leaks(tmp_path):
    found = {name: f"{name.split()[0]}-{secrets.token_hex(12)}" for name in (
        "store password", "pseudonym secret", "portal data key", "sftp password")}
    out = tmp_path / "out"
    server = LoopbackSFTPServer(out / "sftp", password=found["sftp password"]).start()
    try:
        demo = airflow_demo.deployment(out, 8123, server, dict(os.environ))
        airflow_demo.stage_sample_inbox(demo)
        assert demo["EIKIS_INBOX"] == str(out / "inbox")  # retention may delete it, never sample_data/
        env = migrated(with_bureau_secrets(demo, tmp_path, server, found))
        with ArgvWatch() as argv:
            logs = run_every_dag(env, airflow_demo.supply_sample_claims)
    finally:
        server.stop()
    assert list(logs) == list(ORDER)
    delivered = out / "sftp"
    assert any(delivered.glob(f"monthly/dso_*/{SAMPLE_PERIOD}/*.csv"))  # through the demo's Airflow connection
    assert (delivered / "aldis" / "sopa" / SAMPLE_PERIOD / "sopa_returns.csv").is_file()  # through password_env
    assert (delivered / "claims" / "payout" / SAMPLE_PERIOD / "payout.csv").is_file()
    assert (out / "simulations" / SAMPLE_PERIOD / "simulation.csv").is_file()

    metadata = sqlite3.connect(out / "airflow" / "airflow.db")
    xcoms = [str(row[0]) for row in metadata.execute("SELECT value FROM xcom")]
    rendered = [str(row[0]) for row in metadata.execute("SELECT rendered_fields FROM rendered_task_instance_fields")]
    assert len(xcoms) > 20 and any("run_id" in x for x in xcoms) and rendered  # there was something to look at
    airflow_files = [p for p in (out / "airflow").rglob("*") if p.is_file()]
    task_logs = [p.read_text(encoding="utf-8", errors="replace") for p in airflow_files if p.suffix == ".log"]
    stored = [p.read_bytes().decode("utf-8", "replace") for p in airflow_files]
    places = {"xcom": xcoms, "rendered fields": rendered, "task log files": task_logs,
              "run output": list(logs.values()), "Airflow home": stored, "argv": sorted(argv.seen)}
    for name, secret in found.items():
        for place, texts in places.items():
            assert not any(secret in text for text in texts), f"the {name} appears in {place}"
