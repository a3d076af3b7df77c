"""Every DAG of the repository, run one after the other with `airflow dags test` on the sample month, each
triggered with its month only (plus ALDIS's `wait_for_delivery_day` off, so the run does not wait for the 7th):
monthly → ALDIS → (the sample claims, written by `eikis generate-claims`) → claims, approved from outside as on
the Required Actions page → simulation → retention → Airflow upkeep. Shared by the secrets test and the
`make airflow` test, which differ only in the deployment (`env`) they run in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE_PERIOD
from tests.dags.harness import BIN, dags_test, dags_test_command

RESPONDER = Path(__file__).with_name("hitl_responder.py")
ORDER = ("eikis_monthly", "aldis_protected_users", "eikis_claims", "eikis_simulate", "eikis_retention",
         "airflow_upkeep")


def run_every_dag(env: dict[str, str], timeout: int = 900) -> dict[str, str]:
    """Each DAG's whole output (every task's log), by dag id; asserts each run succeeded."""
    logs: dict[str, str] = {}
    for dag_id in ORDER:
        conf = {"period": SAMPLE_PERIOD} if dag_id in ("eikis_monthly", "eikis_claims", "eikis_simulate") else {}
        if dag_id == "aldis_protected_users":
            conf = {"period": SAMPLE_PERIOD, "wait_for_delivery_day": False}
        if dag_id == "eikis_claims":
            write_sample_claims(env)
            logs[dag_id] = approved_claims_run(env, conf, timeout)
        else:
            run = dags_test(dag_id, conf, env, timeout)
            logs[dag_id] = run.stdout + run.stderr
            assert run.returncode == 0 and "state=success" in logs[dag_id], f"{dag_id}: {logs[dag_id][-5000:]}"
    return logs


def write_sample_claims(env: dict[str, str]) -> None:
    """The suppliers' sample claims for the published month, where the deployment's claims DAG reads them."""
    made = subprocess.run([str(BIN / "eikis"), "generate-claims", "--period", SAMPLE_PERIOD, "--published",
                           env["EIKIS_OUTBOX"], "--aldis", env["EIKIS_ALDIS_OUTBOX"], "--out", env["EIKIS_CLAIMS"],
                           "--policy", env["EIKIS_POLICY"], "--seed", "7"], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert made.returncode == 0, made.stderr[-3000:]


def approved_claims_run(env: dict[str, str], conf: dict[str, str], timeout: int) -> str:
    run = subprocess.Popen(dags_test_command("eikis_claims", conf), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    answer = subprocess.run([sys.executable, str(RESPONDER), "eikis_claims", "approve_payout", "Approve", "600"],
                            env=env, capture_output=True, text=True, timeout=timeout, check=False)
    log, _ = run.communicate(timeout=timeout)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert run.returncode == 0 and "state=success" in log, log[-5000:]
    return answer.stdout + log
