"""
### EIKIS monthly — who gets energy-bill support for consumption month P

**What it does.** For the consumption month P (this run's data interval, a calendar month in Latvian time) it
waits until every required source has landed in `EIKIS_INBOX/P/`, stages and validates each source (one task
each, in parallel after ARIS, which the others are checked against), decides every household and connection,
writes every recipient's file into `EIKIS_OUTBOX/P/` (built aside, published with one rename), delivers each
recipient's files over SFTP (one mapped task per recipient), and records the run in the store.

**Run any month by hand:** *Trigger DAG w/ config* and set `period`: a run's config may hold `period` and
`accept_anomaly` only (any other key is refused: paths, the policy, the store and the recipients are the
deployment's `EIKIS_*` settings). A manual run never waits for the inbox: if a source of P is missing it fails
at once, naming the missing sources.

**Waiting for the inbox (scheduled runs only).** A scheduled run waits (up to 5 days, checking every 15 minutes)
only once `EIKIS_INBOX/P/` exists, i.e. a provider has begun delivering P. If nothing at all was delivered for P —
typically the run Airflow creates for the previous month when you unpause the DAG — it fails at once instead of
waiting, so it never blocks a manual run behind it (`max_active_runs=1`).

**One run per period.** Each task that writes P takes P's lock (`.P.lock` in the work folder and beside the
outbox); a command-line `eikis run` of the same month at the same time is refused, and so is this DAG's task while
such a run works (the task fails with "already being run by another process": clear it when the other run ends).

**When a task fails**
- `wait_for_inbox` failed at once: nothing was delivered for P (scheduled run), or a source is missing (manual
  run); the log's last line says which. Timed out after 5 days: a provider has not delivered the rest.
- `ingest_<source>` failed: the log's last line names the file, the line or record and the reason (a malformed
  or truncated file, a wrong namespace, a suite that failed). Ask the provider for a corrected file, replace it in
  the inbox and clear the task. It never retries by itself: the same file fails the same way. Quarantined records
  and the Great Expectations Data Docs are in `EIKIS_WORKDIR/P/quarantine` and `…/data_docs/index.html`.
- `check_anomalies` failed: a source's record count or quarantined share, or the eligible share, moved more than
  the policy's `anomaly_tolerance` (default 5 %) since the previous decided month; the log's last line names the
  measure, both values and the tolerance. Check the sources; if the change is real, trigger again with the
  `accept_anomaly` param set to the reason (it is recorded in the store). The store's first month has no gate.
- `decide` / `publish` failed: nothing was published for P (the outbox has no `P/` folder); fix and clear.
  `publish` prints the path of the run report (`report.html`: trends, changes, drill-down, Data Docs links).
- `deliver` failed for a recipient (mapped task named after it): it retried with backoff; the recipient never saw
  a partial file. Check the endpoint and clear that mapped task only — identical files are not sent twice.
  "refusing to deliver": the endpoint has no verified host key, or the server's key changed — give the Airflow
  connection a `host_key` extra (`ssh-ed25519 AAAA…`) or a `known_hosts` path; never `no_host_key_check`.
  "remote disk full" / "permission denied": the recipient's server refused; not retried, tell the recipient.
  Every SFTP step times out (connection extra `conn_timeout`, default 30 s) and the task after 30 minutes.
- `record` failed: files are published, nothing was delivered yet; clear it once the database is reachable.

**Stages** (the same functions `eikis run` calls, in `pipeline/flows/monthly.py`): ingest → decide → publish →
record → deliver (the month is recorded before any delivery is attempted; each delivery records its own files).

**Assets.** `publish` updates `eikis://outbox/monthly` and each delivery updates `eikis://deliveries/monthly`, with
the period (and the recipient) in the event's extra: a downstream DAG can be scheduled on a published month.
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
    chain,
    dag,
    get_current_context,
    task,
)

from pipeline.catalog import SOURCES_AFTER_ARIS
from pipeline.flows import monthly
from pipeline.flows.failures import one_line_errors

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
    default_args={"owner": "eikis-data", **NO_RETRY, "show_return_value_in_logs": False},
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", title="Consumption month",
                        description="YYYY-MM to decide; empty = this run's data interval."),
        "accept_anomaly": Param(None, type=["null", "string"], title="Accept an anomaly (reason)",
                                description="Publish although the month differs from the previous one beyond the "
                                            "anomaly tolerance; the reason is recorded in the store."),
    },
)
def eikis_monthly() -> None:
    @task
    @one_line_errors
    def resolve_config() -> dict[str, Any]:
        context = get_current_context()
        return monthly.RunConfig.resolve(dict(context["params"]), context.get("data_interval_start")).to_params()

    @task.sensor(poke_interval=900, timeout=5 * 24 * 3600, mode="reschedule")
    @one_line_errors
    def wait_for_inbox(config: dict[str, Any]) -> PokeReturnValue:
        scheduled = get_current_context()["dag_run"].run_type == "scheduled"
        ready = monthly.inbox_ready(monthly.RunConfig.from_params(config), scheduled)
        return PokeReturnValue(is_done=ready, xcom_value=config)

    def ingest_task(source: str):  # noqa: ANN202 - returns a TaskFlow task
        @task(task_id=f"ingest_{source}")
        @one_line_errors
        def ingest(config: dict[str, Any]) -> dict[str, Any]:
            return monthly.ingest(monthly.RunConfig.from_params(config), source).to_dict()

        return ingest

    @task
    @one_line_errors
    def decide(config: dict[str, Any]) -> dict[str, Any]:
        return monthly.decide(monthly.RunConfig.from_params(config)).to_dict()

    @task
    @one_line_errors
    def check_anomalies(config: dict[str, Any], decision: dict[str, Any]) -> list[str]:
        return monthly.anomaly_gate(monthly.RunConfig.from_params(config),
                                    monthly.DecisionSummary.from_dict(decision))

    @task(outlets=[OUTBOX])
    @one_line_errors
    def publish(config: dict[str, Any], decision: dict[str, Any], gated: list[str]) -> dict[str, Any]:
        # the gate ran in check_anomalies: not again
        published = monthly.publish(monthly.RunConfig.from_params(config), monthly.DecisionSummary.from_dict(decision),
                                    gated).to_dict()
        print(f"run report: {published['report']}")
        get_current_context()["outlet_events"][OUTBOX].extra = {
            "period": config["period"], "run_id": published["run_id"], "outbox": published["outbox"]}
        return published

    @task
    @one_line_errors
    def plan_delivery(config: dict[str, Any]) -> list[dict[str, Any]]:
        return monthly.plan_delivery(monthly.RunConfig.from_params(config))

    @task(retries=3, retry_delay=dt.timedelta(minutes=2), retry_exponential_backoff=True,
          max_retry_delay=dt.timedelta(minutes=30), map_index_template="{{ recipient }}", max_active_tis_per_dag=4,
          execution_timeout=dt.timedelta(minutes=30), outlets=[DELIVERIES])
    @one_line_errors
    def deliver(config: dict[str, Any], published: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
        context = get_current_context()
        context["recipient"] = f"{plan['name']} ({plan['recipient']})" if plan.get("name") else plan["recipient"]
        run = monthly.RunConfig.from_params(config)
        delivered = monthly.deliver_planned(run, plan, monthly.endpoint_connection(run, plan, Connection.get))
        # this recipient's rows, beside the month's
        monthly.record_deliveries(run, monthly.PublishedOutbox.from_dict(published), [delivered])
        context["outlet_events"][DELIVERIES].extra = {"period": config["period"], "recipient": plan["recipient"],
                                                      "name": plan.get("name", ""), "files": len(delivered)}
        return delivered

    @task
    @one_line_errors
    def record(config: dict[str, Any], published: dict[str, Any]) -> dict[str, int]:
        return monthly.record(monthly.RunConfig.from_params(config),
                              monthly.PublishedOutbox.from_dict(published))

    config = wait_for_inbox(resolve_config())
    ingest_aris = ingest_task("aris")(config)
    ingest_others = [ingest_task(source)(config) for source in SOURCES_AFTER_ARIS]
    decision = decide(config)
    published = publish(config, decision, check_anomalies(config, decision))
    recorded = record(config, published)
    plans = plan_delivery(config)
    deliver.partial(config=config, published=published).expand(plan=plans)
    chain(ingest_aris, ingest_others, decision)
    chain(recorded, plans)  # the month is in the store before any delivery is attempted

eikis_monthly()
