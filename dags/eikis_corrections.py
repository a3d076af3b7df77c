"""
### EIKIS corrections — confirmed appeal decisions reach the suppliers and municipalities (CONTRACTS §16)

Runs **daily at 06:00 Europe/Riga**. For every month a confirmed appeal decision covers (or only `period`, when
triggered with it), `publish` writes the next numbered correction set `<EIKIS_OUTBOX>/<P>/corrections/<NN>/` with
only the recipients whose rows changed (`changes.csv`: the recipient file's columns + `change;case_ref`), built
aside and renamed into place; with nothing new it publishes nothing. `deliver` then sends each recipient's
`changes.csv` and its own manifest over SFTP, with the recipients file (`EIKIS_RECIPIENTS`) and the verified,
atomic upload of the monthly files (files already delivered are not sent again). Paths come from the deployment:
`EIKIS_DB_URL`, `EIKIS_OUTBOX`, `EIKIS_WORKDIR`, `EIKIS_RECIPIENTS`.

**Run by hand:** *Trigger DAG w/ config*, set `period` (YYYY-MM) to publish that month only.

**When a task fails**
- `publish`: the log's last line names the file, record and reason; nothing of that set was published (a build
  folder left by a crash is removed by the next run). Fix the cause and clear the task.
- `deliver`: the recipient's server refused or stopped answering (named in the log); clear the task — files
  already there are not sent again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Connection, CronTriggerTimetable, Param, dag, get_current_context, task

from pipeline.flows import corrections as flow
from pipeline.flows.failures import one_line_errors


@dag(
    dag_id="eikis_corrections",
    schedule=CronTriggerTimetable("0 6 * * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "appeals"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", title="Decided month",
                        description="YYYY-MM: publish this month's corrections only. Empty = every month a "
                                    "confirmed appeal decision covers."),
    },
)
def eikis_corrections() -> None:
    @task
    @one_line_errors
    def resolve_config() -> list[dict[str, Any]]:
        return [config.to_params() for config in flow.resolve_config(dict(get_current_context()["params"]))]

    @task(map_index_template="{{ config['period'] }}")
    @one_line_errors
    def publish(config: dict[str, Any]) -> dict[str, Any]:
        return flow.publish_corrections(flow.CorrectionsConfig.from_params(config))

    @task
    @one_line_errors
    def plan_delivery(configs: list[dict[str, Any]], published: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"config": config, "plan": plan} for config in configs
                for plan in flow.plan_delivery(flow.CorrectionsConfig.from_params(config))]

    @task(map_index_template="{{ item['plan']['recipient'] }}", retries=3,
          retry_delay=dt.timedelta(minutes=5), retry_exponential_backoff=True)
    @one_line_errors
    def deliver(item: dict[str, Any]) -> list[dict[str, Any]]:
        config = flow.CorrectionsConfig.from_params(item["config"])
        return flow.deliver_one(config, item["plan"], flow.endpoint_connection(config, item["plan"], Connection.get))

    configs = resolve_config()
    deliver.expand(item=plan_delivery(configs, publish.expand(config=configs)))


eikis_corrections()
