"""
### Airflow upkeep — Airflow's own logs and metadata are kept `EIKIS_AIRFLOW_KEEP_DAYS` days (default 90)

Every day at 04:00 Europe/Riga: `airflow db clean` removes run, task, XCom and log rows older than the horizon
(no archive tables), then the task log files older than it are deleted. EIKIS's own data has its retention in
`eikis_retention`; this keeps Airflow from holding a second, unlimited history.

**When the task fails**: its last log line names the step (`airflow db clean` and its exit code, or a log file it
could not delete). Nothing is lost by waiting: clear it, or run the same command by hand:
`airflow db clean --clean-before-timestamp <date> --skip-archive --yes`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from pipeline.flows import upkeep as flow
from pipeline.flows.failures import one_line_errors


@dag(
    dag_id="airflow_upkeep",
    schedule=CronTriggerTimetable("0 4 * * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "retention", "airflow"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
)
def airflow_upkeep() -> None:
    @task
    @one_line_errors
    def clean() -> dict[str, Any]:
        from airflow.configuration import conf

        return flow.upkeep(Path(conf.get("logging", "base_log_folder")), dt.datetime.now(dt.UTC))

    clean()


airflow_upkeep()
