"""The simulation DAG: on demand, one thin task calling `pipeline.flows.simulate`, documented params; variant
names resolve inside the configured folder only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.errors import EikisError
from pipeline.flows.simulate import resolve_request
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
    assert imported <= {"__future__", "datetime", "typing", "airflow.sdk", "pipeline.flows"}


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
    request = resolve_request({"period": "2026-11", "variants": ["plus.yaml"]}, env)
    assert request == {"period": "2026-11", "workdir": "/w", "policy": env["EIKIS_POLICY"], "out": "/sim",
                       "variants": [("plus", str((tmp_path / "policies" / "variants" / "plus.yaml").resolve()))]}


@pytest.mark.parametrize("name", ["../outside.yaml", "/etc/passwd", "link.yaml", "missing.yaml", "plus", ""])
def test_a_path_a_link_out_or_a_missing_file_is_refused(tmp_path, name):
    with pytest.raises(EikisError):
        resolve_request({"period": "2026-11", "variants": [name]}, _folder(tmp_path))


def test_the_folder_can_be_configured(tmp_path):
    env = {**_folder(tmp_path), "EIKIS_SIMULATION_POLICIES": str(tmp_path)}
    request = resolve_request({"period": "2026-11", "variants": ["outside.yaml"]}, env)
    assert request["variants"] == [("outside", str((tmp_path / "outside.yaml").resolve()))]
