"""
### EIKIS retention — delete personal data and access records older than 24 months, then prove it (CONTRACTS §15)

Runs monthly on the **2nd at 03:00 Europe/Riga**. `apply` deletes, for every month more than 24 months before
the run's month, the workdir's staging, quarantine, decision records and Data Docs, the store's household,
member and portal-index rows, and the portal's access-log rows; each deletion is written to `deletion_log`
(month, kind, target, count, sha256 — no personal data). `verify` then looks again and fails if anything is left.
Published recipient files and run records stay.

**Run by hand:** *Trigger DAG w/ config*, set `as_of` (YYYY-MM) to count from another month (the only key a
run's config may hold: the store and the work folder are the deployment's `EIKIS_DB_URL` and `EIKIS_WORKDIR`).

**When a task fails**
- `apply`: the log's last line names what could not be deleted (a file permission, the store). Deletions done
  before it are recorded; fix the cause and clear the task, it continues where it stopped.
- `verify`: something past retention is still there (named in the log). Clear `apply`, then `verify`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from pipeline.flows import retention as flow
from pipeline.flows.failures import one_line_errors


@dag(
    dag_id="eikis_retention",
    schedule=CronTriggerTimetable("0 3 2 * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "retention"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
    params={
        "as_of": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", title="As of month",
                       description="YYYY-MM; months more than 24 months before it are deleted. Empty = the run's "
                                   "month."),
    },
)
def eikis_retention() -> None:
    @task
    @one_line_errors
    def resolve_config() -> dict[str, Any]:
        context = get_current_context()
        run_date = context.get("logical_date") or context["dag_run"].run_after
        return flow.RetentionConfig.resolve(dict(context["params"]), run_date).to_params()

    @task
    @one_line_errors
    def apply(config: dict[str, Any]) -> dict[str, Any]:
        return flow.apply_task(flow.RetentionConfig.from_params(config))

    @task
    @one_line_errors
    def verify(config: dict[str, Any], applied: dict[str, Any]) -> dict[str, Any]:
        return flow.verify_task(flow.RetentionConfig.from_params(config))

    config = resolve_config()
    verify(config, apply(config))


eikis_retention()
