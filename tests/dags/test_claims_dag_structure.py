"""The claims DAG loads, waits for a person between the check and the payout, and is thin and documented."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["eikis_claims"]


def test_the_payout_is_recorded_only_after_the_approval(dag):
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    approval = dag.get_task("approve_payout")
    assert isinstance(approval, ApprovalOperator)
    assert approval.upstream_task_ids == {"check_claims"}
    # Reject skips the direct downstream task; everything that pays or delivers hangs below it.
    assert approval.downstream_task_ids == {"record_payout"}
    assert "record_payout" in dag.get_task("plan_delivery").upstream_task_ids
    assert "plan_delivery" in dag.get_task("deliver").upstream_task_ids
    assert "check_claims" in approval.body


def test_the_claims_dag_is_on_demand_documented_and_parameterised(dag):
    assert type(dag.timetable).__name__ == "NullTimetable"  # schedule=None: on demand
    assert "Reject" in dag.doc_md and "When a task fails" in dag.doc_md
    assert set(dag.params) == {"period", "as_of"}  # paths and recipients are the deployment's (EIKIS_*)
    for name in dag.params:
        param = dag.params.get_param(name)
        assert param.schema.get("title") and param.description, name
    assert all(task.retries == 0 for task in dag.tasks if task.task_id != "deliver")
