"""The simulation DAG: on demand, one thin task calling `pipeline.flows.simulate`, documented params; variant
names resolve inside the configured folder only; and a real `airflow dags test` run on the ingested sample."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import EikisError
from pipeline.flows.simulate import SimulateConfig
from tests.cli import eikis
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.dags.conftest import DAGS


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["eikis_simulate"]


def test_the_simulation_dag_is_on_demand_with_one_task_and_documented_params(dag):
    assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None
    assert dag.task_ids == ["simulate"]
    assert set(dag.params) == {"period", "variants"}
    for name in dag.params:
        param = dag.params.get_param(name)
        assert param.schema.get("title") and param.description, name
    assert "When the task fails" in dag.doc_md
    assert dag.get_task("simulate").retries == 0


def test_the_dag_file_imports_only_airflow_sdk_and_the_flow():
    tree = ast.parse((DAGS / "eikis_simulate.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"__future__", "datetime", "typing", "airflow.sdk", "pipeline.flows", "pipeline.flows.failures"}


def _folder(tmp_path: Path) -> dict[str, str]:
    policies = tmp_path / "policies"
    (policies / "variants").mkdir(parents=True)
    (policies / "variants" / "plus.yaml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "outside.yaml").write_text("x: 1\n", encoding="utf-8")
    (policies / "variants" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    return {"EIKIS_POLICY": str(policies / "eikis_policy.yaml"), "EIKIS_WORKDIR": "/w",
            "EIKIS_SIMULATION_OUT": "/sim"}


def test_variants_are_file_names_resolved_in_the_configured_folder(tmp_path):
    env = _folder(tmp_path)
    request = SimulateConfig.resolve({"period": "2026-11", "variants": ["plus.yaml"]}, None, env)
    assert (request.period, request.workdir, request.policy, request.out) == ("2026-11", "/w", env["EIKIS_POLICY"],
                                                                              "/sim")
    assert request.variant_files == (("plus", str((tmp_path / "policies" / "variants" / "plus.yaml").resolve())),)


@pytest.mark.parametrize("name", ["../outside.yaml", "/etc/passwd", "link.yaml", "missing.yaml", "plus", ""])
def test_a_path_a_link_out_or_a_missing_file_is_refused(tmp_path, name):
    with pytest.raises(EikisError):
        SimulateConfig.resolve({"period": "2026-11", "variants": [name]}, None, _folder(tmp_path))


def test_the_folder_can_be_configured(tmp_path):
    env = {**_folder(tmp_path), "EIKIS_SIMULATION_POLICIES": str(tmp_path)}
    request = SimulateConfig.resolve({"period": "2026-11", "variants": ["outside.yaml"]}, None, env)
    assert request.variant_files == (("outside", str((tmp_path / "outside.yaml").resolve())),)


@pytest.mark.slow
def test_airflow_dags_test_simulates_the_ingested_sample_month(tmp_path):
    """`airflow dags test eikis_simulate` on the sample month ingested in a workdir: the task resolves the variant
    by name in policy/variants/ and writes the files to EIKIS_SIMULATION_OUT."""
    workdir, out = tmp_path / "work", tmp_path / "simulations"
    ingested = eikis("ingest", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--workdir", workdir)
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "EIKIS_WORKDIR": str(workdir), "EIKIS_POLICY": str(DEFAULT_POLICY), "EIKIS_SIMULATION_OUT": str(out)}
    migrate = subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    conf = {"period": SAMPLE_PERIOD, "variants": ["threshold_plus_10.yaml"]}
    run = subprocess.run([str(bin_dir / "airflow"), "dags", "test", "eikis_simulate", "-c", json.dumps(conf)],
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    log = run.stdout + run.stderr
    assert run.returncode == 0 and "state=success" in log, log[-5000:]
    text = (out / SAMPLE_PERIOD / "simulation.csv").read_text(encoding="utf-8")
    assert "\nthreshold_plus_10;total;;232;92;" in text and (out / SAMPLE_PERIOD / "simulation.html").is_file()
