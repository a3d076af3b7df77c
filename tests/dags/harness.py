"""Running a DAG for real with `airflow dags test` in a temporary, migrated AIRFLOW_HOME (SQLite metadata).

Every DAG test that runs tasks goes through here, so they all see Airflow the same way: the repository's dags
folder, no examples, `.venv/bin` on PATH (Airflow starts its components by the bare name `airflow`) and the
deployment's `EIKIS_*` settings given as environment variables, as an operator would set them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def airflow_env(airflow_home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A migrated AIRFLOW_HOME with the repository's dags folder, and the deployment's variables."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "AIRFLOW_HOME": str(airflow_home),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1", **extra}
    return migrated(env)


def migrated(env: dict[str, str]) -> dict[str, str]:
    """`airflow db migrate` of the AIRFLOW_HOME `env` names (what `airflow standalone` does first)."""
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


def dags_test_command(dag_id: str, conf: dict[str, Any]) -> list[str]:
    return [str(BIN / "airflow"), "dags", "test", dag_id, "-c", json.dumps(conf)]


def dags_test(dag_id: str, conf: dict[str, Any], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    """One run of `dag_id` with the trigger's `conf`; stdout and stderr together hold every task's log."""
    return subprocess.run(dags_test_command(dag_id, conf), env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
