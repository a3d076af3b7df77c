"""
### EIKIS monthly — who gets energy-bill support for consumption month P

**What it does.** For the consumption month P (this run's data interval, a calendar month in Latvian time) it
waits until every required source has landed in `EIKIS_INBOX/P/`, stages and validates each source (one task
each, in parallel after ARIS, which the others are checked against), decides every household and connection,
writes every recipient's file into `EIKIS_OUTBOX/P/` (built aside, published with one rename), delivers each
recipient's files over SFTP (one mapped task per recipient), and records the run in the store.

**Run any month by hand:** *Trigger DAG w/ config* and set `period` (and, if needed, `policy`). A manual run
never waits for the inbox: if a source of P is missing it fails at once, naming the missing sources.

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
- `decide` / `build_files` failed: nothing was published for P (the outbox has no `P/` folder); fix and clear.
- `deliver` failed for a recipient (mapped task named after it): it retried with backoff; the recipient never saw
  a partial file. Check the endpoint and clear that mapped task only — identical files are not sent twice.
  "refusing to deliver": the endpoint has no verified host key, or the server's key changed — give the Airflow
  connection a `host_key` extra (`ssh-ed25519 AAAA…`) or a `known_hosts` path; never `no_host_key_check`.
  "remote disk full" / "permission denied": the recipient's server refused; not retried, tell the recipient.
  Every SFTP step times out (connection extra `conn_timeout`, default 30 s) and the task after 30 minutes.
- `record_run` failed: files are published and delivered; clear it once the database is reachable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Connection, CronDataIntervalTimetable, Param, PokeReturnValue, dag, get_current_context, task

from pipeline import orchestration as eikis
from pipeline.catalog import SOURCES_AFTER_ARIS

NO_RETRY = {"retries": 0}


@dag(
    dag_id="eikis_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Europe/Riga"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "monthly"],
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
    },
)
def eikis_monthly() -> None:
    @task
    def resolve_config() -> dict[str, Any]:
        context = get_current_context()
        return eikis.resolve_config(dict(context["params"]), context.get("data_interval_start"))

    @task.sensor(poke_interval=900, timeout=5 * 24 * 3600, mode="reschedule")
    def wait_for_inbox(config: dict[str, Any]) -> PokeReturnValue:
        ready = eikis.inbox_ready(config, scheduled=get_current_context()["dag_run"].run_type == "scheduled")
        return PokeReturnValue(is_done=ready, xcom_value=config)

    def ingest_task(source: str):  # noqa: ANN202 - returns a TaskFlow task
        @task(task_id=f"ingest_{source}")
        def ingest(config: dict[str, Any], after: object = None) -> dict[str, Any]:
            return eikis.ingest_one(config, source)

        return ingest

    @task
    def decide(config: dict[str, Any], ingested: list[Any]) -> dict[str, Any]:
        return eikis.decide(config)

    @task
    def build_files(config: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
        return eikis.publish(config)

    @task
    def plan_deliveries(config: dict[str, Any], published: dict[str, Any]) -> list[dict[str, Any]]:
        return eikis.plan(config)

    @task(retries=3, retry_delay=dt.timedelta(minutes=2), retry_exponential_backoff=True,
          max_retry_delay=dt.timedelta(minutes=30), map_index_template="{{ recipient }}", max_active_tis_per_dag=4,
          execution_timeout=dt.timedelta(minutes=30))
    def deliver(config: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
        get_current_context()["recipient"] = plan["recipient"]
        entry = eikis.endpoint_entry(config, plan)
        connection = None
        if "airflow_conn_id" in entry:
            found = Connection.get(entry["airflow_conn_id"])
            connection = {"host": found.host, "port": found.port, "login": found.login, "password": found.password,
                          "extra": found.extra_dejson}
        return eikis.deliver_one(config, plan, connection)

    @task(trigger_rule="none_failed")
    def record_run(config: dict[str, Any], published: dict[str, Any], deliveries: list[Any]) -> dict[str, int]:
        return eikis.record(config, published["run_id"], list(deliveries or []))

    config = wait_for_inbox(resolve_config())
    aris = ingest_task("aris")(config)
    others = [ingest_task(source)(config, aris) for source in SOURCES_AFTER_ARIS]
    decision = decide(config, others)
    published = build_files(config, decision)
    deliveries = deliver.partial(config=config).expand(plan=plan_deliveries(config, published))
    record_run(config, published, deliveries)


eikis_monthly()
