"""`make airflow` (issue 9, point 9): `airflow standalone` with `.venv/bin` on PATH (its components are started by
the bare name `airflow`) and the variables the README lists, so the DAG finds the sample month."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def recipe(tmp_path: Path) -> str:
    dry = subprocess.run(["make", "-n", "-s", "-o", ".venv/bin/.installed", "airflow", f"AIRFLOW_HOME={tmp_path}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)  # -o: never set up here
    return dry.stdout.replace("\\\n", " ").strip()


def test_make_airflow_runs_standalone_with_the_venv_on_path_and_the_readme_variables(tmp_path):
    command = recipe(tmp_path)
    assert command.startswith(f'PATH="{ROOT}/.venv/bin:$PATH"') and command.endswith(".venv/bin/airflow standalone")
    for variable in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__LOAD_EXAMPLES", "EIKIS_INBOX", "EIKIS_OUTBOX",
                     "EIKIS_WORKDIR", "EIKIS_POLICY"):
        assert f"{variable}=" in command, variable
    shown = 'command -v airflow; echo "$EIKIS_INBOX"; airflow config get-value core dags_folder'
    probe = command.replace(".venv/bin/airflow standalone", f"sh -c '{shown}'")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EIKIS_"))}
    env["PATH"] = "/usr/bin:/bin"  # as on a fresh shell: the venv is not activated
    seen = subprocess.run(["sh", "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=True).stdout.split("\n")
    assert seen[:3] == [str(ROOT / ".venv" / "bin" / "airflow"), str(ROOT / "sample_data" / "inbox"),
                        str(ROOT / "dags")]
