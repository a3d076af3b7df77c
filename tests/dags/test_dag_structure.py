"""The DAG loads without errors and has the expected tasks, wiring and retry policy."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.flows.monthly import STAGES, RunConfig, period_of_interval
from tests.dags.conftest import DAGS


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["eikis_monthly"]


def test_expected_tasks_and_dependencies(dag):
    sources = ["aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa"]
    assert set(dag.task_ids) == {"resolve_config", "wait_for_inbox", "decide", "check_anomalies", "publish",
                                 "record", "plan_delivery", "deliver", *(f"ingest_{s}" for s in sources)}
    assert set(STAGES) <= set(dag.task_ids) | {"ingest"}   # one vocabulary: the flow's stage names are task ids
    assert dag.get_task("ingest_aris").upstream_task_ids == {"wait_for_inbox"}
    for source in sources[1:]:
        assert dag.get_task(f"ingest_{source}").upstream_task_ids == {"wait_for_inbox", "ingest_aris"}
    assert dag.get_task("decide").upstream_task_ids == {"wait_for_inbox", *(f"ingest_{s}" for s in sources[1:])}
    assert dag.get_task("check_anomalies").upstream_task_ids == {"wait_for_inbox", "decide"}
    assert dag.get_task("publish").upstream_task_ids == {"wait_for_inbox", "decide", "check_anomalies"}
    assert dag.get_task("record").upstream_task_ids == {"wait_for_inbox", "publish"}
    # the month is recorded before any delivery is attempted (issue 22, point 5)
    assert dag.get_task("plan_delivery").upstream_task_ids == {"wait_for_inbox", "record"}
    assert dag.get_task("deliver").upstream_task_ids == {"wait_for_inbox", "publish", "plan_delivery"}


def test_the_anomaly_gate_is_one_task_whose_outcome_publish_is_handed(dag):
    """One gate per run: `check_anomalies` runs it and `publish` gets its result (`monthly.publish`'s `gated`, so
    publish does not run it again); no other task of the DAG runs it."""
    handed = [arg.operator.task_id for arg in dag.get_task("publish").op_args]
    assert handed == ["wait_for_inbox", "decide", "check_anomalies"]
    assert [task.task_id for task in dag.tasks if "anomal" in task.task_id] == ["check_anomalies"]


def test_published_outboxes_and_deliveries_are_assets(dag):
    assert [a.uri for a in dag.get_task("publish").outlets] == ["eikis://outbox/monthly"]
    assert [a.uri for a in dag.get_task("deliver").outlets] == ["eikis://deliveries/monthly"]
    assert dag.get_task("deliver").map_index_template == "{{ recipient }}"


def test_retries_only_where_a_retry_can_help(dag):
    deliver = dag.get_task("deliver")
    assert deliver.retries >= 3 and deliver.retry_exponential_backoff
    for task in dag.tasks:
        if task.task_id != "deliver":
            assert task.retries == 0, task.task_id


def test_dag_is_documented_tagged_and_owned(dag):
    assert "When a task fails" in dag.doc_md
    assert "eikis" in dag.tags and dag.max_active_runs == 1 and not dag.catchup
    assert set(dag.params) == {"period", "accept_anomaly"}
    assert dag.params.get_param("accept_anomaly").schema.get("title")
    assert dag.description and "eligibility" in dag.description
    assert "check_anomalies" in dag.doc_md and "Assets" in dag.doc_md
    assert all(task.owner == "eikis-data" for task in dag.tasks)


def test_the_dag_file_does_no_heavy_work_at_import():
    source = (DAGS / "eikis_monthly.py").read_text(encoding="utf-8")
    for heavy in ("import pandas", "import great_expectations", "datetime.now", "Connection.get(\"", "open("):
        assert heavy not in source.split("def eikis_monthly")[0]


def test_the_data_interval_start_gives_the_consumption_month_in_latvian_time():
    assert period_of_interval(dt.datetime(2026, 9, 30, 21, 0, tzinfo=dt.UTC)) == "2026-10"
    config = RunConfig.resolve({"period": None}, dt.datetime(2026, 10, 31, 22, 0, tzinfo=dt.UTC),
                            environ={"EIKIS_WORKDIR": "/w", "EIKIS_DB_URL": "sqlite:///x"})
    assert config.period == "2026-11" and config.workdir == "/w"
    assert RunConfig.resolve({"period": "2025-01"}, None, environ={"EIKIS_DB_URL": "sqlite:///x"}).period == "2025-01"
    assert RunConfig.resolve({"period": "2025-01", "accept_anomaly": "  VID re-sent  "}, None,
                          environ={"EIKIS_DB_URL": "sqlite:///x"}).accept_anomaly == "VID re-sent"
