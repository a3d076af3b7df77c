"""
### ALDIS protected users — SOPA → each electricity trader's contracts, returns to SOPA (CONTRACTS §12)

**Calendar (seed 000).** SOPA prepares the persons with a valid decision for month P on the 1st of P+1. This DAG
runs on the **5th** (00:00 Europe/Riga) for the previous month P: it reads SOPA and the traders' contract lists,
applies the nine §12 reasons, publishes `EIKIS_ALDIS_OUTBOX/P/` (built aside, one rename) and sends
`sopa_returns.csv` back to SOPA at once, so SOPA can correct records. It then **waits, deferred (no worker slot
held), until the 7th 00:00 Europe/Riga** and delivers each production trader's `protected_contracts.csv` over
SFTP (one mapped task per trader, shown with the trader's name; upload under a temporary name, size and sha256
checked, atomic rename, the trader's own manifest last). A trader not in production for P never gets a file.

**Run a month by hand:** *Trigger DAG w/ config*, set `period`; switch off `wait_for_delivery_day` to deliver
now (e.g. a corrected re-run after the 7th, or a test) instead of waiting for the 7th. A run's config may hold
these two keys only: paths, the trader register and the recipients are the deployment's `EIKIS_*` settings.

**When a task fails**
- `build_outbox`: the log's last line names the file, line or record and the reason (a DOCTYPE or malformed
  SOPA file, a malformed contract list, a contract folder that is not a registration number, a bad trader
  register, a failed contract-list suite). Nothing was published for P. Fix the input and clear the task.
- `deliver_returns_to_sopa` / `deliver_to_traders` (mapped, named after the trader): retried with backoff; the
  recipient never saw a partial file. Check the endpoint and clear that task only: identical files are not resent.
  Every endpoint must name the server's host key: give the Airflow SFTP connection a `host_key` extra
  (`ssh-ed25519 AAAA…`) or a `known_hosts` path; an unknown or changed key refuses the delivery.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Connection, CronTriggerTimetable, Param, dag, get_current_context, task

from pipeline.flows import aldis as flow
from pipeline.flows.failures import one_line_errors

DELIVERY_RETRIES = {"retries": 3, "retry_delay": dt.timedelta(minutes=2), "retry_exponential_backoff": True,
                    "max_retry_delay": dt.timedelta(minutes=30), "execution_timeout": dt.timedelta(minutes=30)}


@dag(
    dag_id="aldis_protected_users",
    schedule=CronTriggerTimetable("0 0 5 * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "aldis"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", title="Consumption month",
                        description="YYYY-MM; empty = the month before this run's date (Europe/Riga)."),
        "wait_for_delivery_day": Param(True, type="boolean", title="Wait for the 7th",
                                       description="Deliver to traders at 00:00 Europe/Riga on the 7th of the month "
                                                   "after P; off = deliver as soon as the outbox is published."),
    },
)
def aldis_protected_users() -> None:
    @task
    @one_line_errors
    def resolve_config() -> dict[str, Any]:
        context = get_current_context()
        run_date = context.get("logical_date") or context["dag_run"].run_after
        return flow.AldisConfig.resolve(dict(context["params"]), run_date).to_params()

    @task
    @one_line_errors
    def build_outbox(config: dict[str, Any]) -> dict[str, Any]:
        return flow.build(flow.AldisConfig.from_params(config))

    @task(**DELIVERY_RETRIES)
    @one_line_errors
    def deliver_returns_to_sopa(config: dict[str, Any], built: dict[str, Any]) -> list[list[dict[str, Any]]]:
        aldis = flow.AldisConfig.from_params(config)
        return [flow.deliver_planned(aldis, plan, flow.endpoint_connection(aldis, plan, Connection.get))
                for plan in flow.plan(aldis, "sopa")]

    wait_for_delivery_day = DateTimeSensorAsync(
        task_id="wait_for_delivery_day", target_time="{{ ti.xcom_pull(task_ids='resolve_config')['wait_until'] }}")

    @task
    @one_line_errors
    def plan_trader_deliveries(config: dict[str, Any]) -> list[dict[str, Any]]:
        return flow.plan(flow.AldisConfig.from_params(config), "traders")

    @task(**DELIVERY_RETRIES, map_index_template="{{ trader_name }}", max_active_tis_per_dag=4)
    @one_line_errors
    def deliver_to_traders(config: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
        get_current_context()["trader_name"] = plan["label"] or plan["recipient"]
        aldis = flow.AldisConfig.from_params(config)
        return flow.deliver_planned(aldis, plan, flow.endpoint_connection(aldis, plan, Connection.get))

    config = resolve_config()
    built = build_outbox(config)
    deliver_returns_to_sopa(config, built)
    plans = plan_trader_deliveries(config)
    built >> wait_for_delivery_day >> plans
    deliver_to_traders.partial(config=config).expand(plan=plans)


aldis_protected_users()
