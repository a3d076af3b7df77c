"""
### EIKIS monthly — who gets energy-bill support for consumption month P

**What it does.** For the consumption month P (this run's data interval, a calendar month in Latvian time) it
waits until every required source has landed in `EIKIS_INBOX/P/`, stages and validates each source (one task
each, in parallel after ARIS, which the others are checked against), decides every household and connection,
writes every recipient's file into `EIKIS_OUTBOX/P/` (built aside, published with one rename), delivers each
recipient's files over SFTP (one mapped task per recipient), and records the run in the store.

**Run any month by hand:** *Trigger DAG w/ config* and set `period` (and, if needed, `policy`).

**When a task fails**
- `wait_for_inbox` timed out: a provider has not delivered; the log lists the missing sources.
- `ingest_<source>` failed: the log's last line names the file, the line or record and the reason (a malformed
  or truncated file, a wrong namespace, a suite that failed). Ask the provider for a corrected file, replace it in
  the inbox and clear the task. It never retries by itself: the same file fails the same way. Quarantined records
  and the Great Expectations Data Docs are in `EIKIS_WORKDIR/P/quarantine` and `…/data_docs/index.html`.
- `check_anomalies` failed: a source's record count or quarantined share, or the eligible share, moved more than
  the policy's `anomaly_tolerance` (default 5 %) since the previous decided month; the log's last line names the
  measure, both values and the tolerance. Check the sources; if the change is real, trigger again with the
  `accept_anomaly` param set to the reason (it is recorded in the store). The store's first month has no gate.
- `decide` / `build_files` failed: nothing was published for P (the outbox has no `P/` folder); fix and clear.
  `build_files` prints the path of the run report (`report.html`: trends, changes, drill-down, Data Docs links).

**Assets.** `build_files` updates `eikis://outbox/monthly` and each delivery updates `eikis://deliveries/monthly`,
with the period (and the recipient) in the event's extra: a downstream DAG can be scheduled on a published month.
- `deliver` failed for a recipient (mapped task named after it): it retried with backoff; the recipient never saw
  a partial file. Check the endpoint and clear that mapped task only — identical files are not sent twice.
- `record_run` failed: files are published and delivered; clear it once the database is reachable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import (
    Asset,
    Connection,
    CronDataIntervalTimetable,
    Param,
    PokeReturnValue,
    dag,
    get_current_context,
    task,
)

from pipeline import orchestration as eikis
from pipeline.catalog import SOURCES_AFTER_ARIS

NO_RETRY = {"retries": 0}
OUTBOX = Asset(uri="eikis://outbox/monthly", name="eikis_outbox_monthly")
DELIVERIES = Asset(uri="eikis://deliveries/monthly", name="eikis_deliveries_monthly")


@dag(
    dag_id="eikis_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "monthly"],
    description="Monthly energy-support eligibility: ingest and validate the sources, decide every household, "
                "publish and deliver each recipient's file",
    doc_md=__doc__,
    default_args={"owner": "eikis-data", **NO_RETRY},
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", title="Consumption month",
                        description="YYYY-MM to decide; empty = this run's data interval."),
        "policy": Param(None, type=["null", "string"], title="Policy file",
                        description="Effective-dated policy YAML; empty = EIKIS_POLICY."),
        "inbox": Param(None, type=["null", "string"], title="Inbox root", description="Empty = EIKIS_INBOX."),
        "outbox": Param(None, type=["null", "string"], title="Outbox root", description="Empty = EIKIS_OUTBOX."),
        "workdir": Param(None, type=["null", "string"], title="Work folder", description="Empty = EIKIS_WORKDIR."),
        "recipients": Param(None, type=["null", "string"], title="Recipients file",
                            description="SFTP endpoints per recipient; empty = EIKIS_RECIPIENTS (none: no delivery)."),
        "accept_anomaly": Param(None, type=["null", "string"], title="Accept an anomaly (reason)",
                                description="Publish although the month differs from the previous one beyond the "
                                            "anomaly tolerance; the reason is recorded in the store."),
    },
)
def eikis_monthly() -> None:
    @task
    def resolve_config() -> dict[str, Any]:
        context = get_current_context()
        return eikis.resolve_config(dict(context["params"]), context.get("data_interval_start"))

    @task.sensor(poke_interval=900, timeout=5 * 24 * 3600, mode="reschedule")
    def wait_for_inbox(config: dict[str, Any]) -> PokeReturnValue:
        missing = eikis.inbox_missing(config)
        if missing:
            print(f"waiting for sources of {config['period']}: {', '.join(missing)}")
        return PokeReturnValue(is_done=not missing, xcom_value=config)

    def ingest_task(source: str):  # noqa: ANN202 - returns a TaskFlow task
        @task(task_id=f"ingest_{source}")
        def ingest(config: dict[str, Any], after: object = None) -> dict[str, Any]:
            return eikis.ingest_one(config, source)

        return ingest

    @task
    def decide(config: dict[str, Any], ingested: list[Any]) -> dict[str, Any]:
        return eikis.decide(config)

    @task
    def check_anomalies(config: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
        return eikis.check_anomalies(config)

    @task(outlets=[OUTBOX])
    def build_files(config: dict[str, Any], checked: dict[str, Any]) -> dict[str, Any]:
        published = eikis.publish(config, checked.get("accepted"))
        print(f"run report: {published['report']}")
        get_current_context()["outlet_events"][OUTBOX].extra = {
            "period": config["period"], "run_id": published["run_id"], "outbox": published["outbox"]}
        return published

    @task
    def plan_deliveries(config: dict[str, Any], published: dict[str, Any]) -> list[dict[str, Any]]:
        return eikis.plan(config)

    @task(retries=3, retry_delay=dt.timedelta(minutes=2), retry_exponential_backoff=True,
          max_retry_delay=dt.timedelta(minutes=30), map_index_template="{{ recipient }}", max_active_tis_per_dag=4,
          outlets=[DELIVERIES])
    def deliver(config: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
        context = get_current_context()
        context["recipient"] = f"{plan['name']} ({plan['recipient']})" if plan.get("name") else plan["recipient"]
        entry = eikis.endpoint_entry(config, plan)
        endpoint = None
        if "airflow_conn_id" in entry:
            connection = Connection.get(entry["airflow_conn_id"])
            endpoint = {"host": connection.host, "port": connection.port or 22, "username": connection.login,
                        "password": connection.password}
        delivered = eikis.deliver_one(config, plan, endpoint)
        context["outlet_events"][DELIVERIES].extra = {"period": config["period"], "recipient": plan["recipient"],
                                                      "name": plan.get("name", ""), "files": len(delivered)}
        return delivered

    @task(trigger_rule="none_failed")
    def record_run(config: dict[str, Any], published: dict[str, Any], deliveries: list[Any]) -> dict[str, int]:
        return eikis.record(config, published["run_id"], list(deliveries or []))

    config = wait_for_inbox(resolve_config())
    aris = ingest_task("aris")(config)
    others = [ingest_task(source)(config, aris) for source in SOURCES_AFTER_ARIS]
    decision = decide(config, others)
    published = build_files(config, check_anomalies(config, decision))
    deliveries = deliver.partial(config=config).expand(plan=plan_deliveries(config, published))
    record_run(config, published, deliveries)


eikis_monthly()
