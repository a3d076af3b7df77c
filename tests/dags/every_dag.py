"""Every DAG of the repository, run one after the other with `airflow dags test` on the sample month, each
triggered with its month only (retention and upkeep with nothing): monthly → ALDIS → (the suppliers' claims for
the published month) → claims, approved from outside as on the Required Actions page → simulation → retention →
Airflow upkeep. `make airflow`'s test runs it in the demo's deployment, with the bureau's secrets set."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import SAMPLE_PERIOD
from tests.dags.harness import dags_test, dags_test_command

RESPONDER = Path(__file__).with_name("hitl_responder.py")
ORDER = ("eikis_monthly", "aldis_protected_users", "eikis_claims", "eikis_simulate", "eikis_retention",
         "airflow_upkeep")


def run_every_dag(env: dict[str, str], supply_claims: Callable[[dict[str, str]], object],
                  timeout: int = 900) -> dict[str, str]:
    """Each DAG's whole output (every task's log), by dag id; asserts each run succeeded. `supply_claims` puts the
    suppliers' claims for the published month where the claims DAG reads them. (ALDIS's delivery day for the
    sample month, 7 December 2026, is past: its run delivers at once.)"""
    logs: dict[str, str] = {}
    for dag_id in ORDER:
        conf = {} if dag_id in ("eikis_retention", "airflow_upkeep") else {"period": SAMPLE_PERIOD}
        if dag_id == "eikis_claims":
            supply_claims(env)
            logs[dag_id] = approved_claims_run(env, conf, timeout)
        else:
            run = dags_test(dag_id, conf, env, timeout)
            logs[dag_id] = run.stdout + run.stderr
            assert run.returncode == 0 and "state=success" in logs[dag_id], f"{dag_id}: {logs[dag_id][-5000:]}"
    return logs


def approved_claims_run(env: dict[str, str], conf: dict[str, str], timeout: int) -> str:
    run = subprocess.Popen(dags_test_command("eikis_claims", conf), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    approver = env.get("EIKIS_CLAIMS_APPROVERS", "test-approver").split(",")[0]  # not `dag_test`, who triggered
    answer = subprocess.run([sys.executable, str(RESPONDER), "eikis_claims", "approve_payout", "Approve", "600",
                             approver],
                            env=env, capture_output=True, text=True, timeout=timeout, check=False)
    log, _ = run.communicate(timeout=timeout)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert run.returncode == 0 and "state=success" in log, log[-5000:]
    return answer.stdout + log
