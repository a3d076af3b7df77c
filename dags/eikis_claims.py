"""
### EIKIS claims — check the suppliers' compensation claims for P, approve the payout, pay and deliver

**What it does (CONTRACTS §13).** For consumption month P it reads every supplier's claim files under
`EIKIS_CLAIMS/P/`, checks each line against what EIKIS published for P (`EIKIS_OUTBOX`, and the ALDIS outbox for
protected users), and publishes each supplier's `claim_result.csv`, `payout.csv` and `audit_sample.csv` into
`EIKIS_CLAIMS_OUTBOX/runs/P/RUN_ID/` (a preview: the payout ledger is only read). Then it **waits for a person to
approve the payout** in the Airflow UI (*Browse → Required Actions*, or the task's *Required Actions* tab): the
request shows the payout per supplier (the same table as the `check_claims` log) and the payout digest. **Four
eyes:** only the users listed in `EIKIS_CLAIMS_APPROVERS` (Airflow user ids, comma-separated) may answer, and the
user who triggered the run cannot approve it (`record_payout` refuses); unanswered after
`EIKIS_CLAIMS_APPROVAL_HOURS` (default 72) the request fails and nothing is paid. **Approve** appends exactly the
checked payout to the ledger (append-only, naming the approver; a correction pays only the difference), points
`EIKIS_CLAIMS_OUTBOX/P` at this run's outbox (`EIKIS_CLAIMS_OUTBOX/runs/P/RUN_ID`, where every check publishes) and
delivers each supplier's `claim_result.csv`, and `payout.csv` with `audit_sample.csv` to the bureau's `payout`
recipient, over SFTP. **Reject** skips everything after it: nothing is recorded, nothing is delivered, `P` still
shows the last approved run.

**When it runs.** On demand: *Trigger DAG w/ config* with `{"period": "YYYY-MM"}` once a period's claims are
complete (the intake that receives the suppliers' files triggers it the same way, e.g. through the REST API).
It has no schedule on purpose: claims for P arrive over weeks and may be corrected for `claim_window_months`.

**When a task fails**
- `check_claims`: its last log line names the file, line and reason (a refused claim file, an altered published
  file, a closed window, a policy error). Fix or remove the file and trigger again; nothing was recorded.
- `record_payout`: refused when the payout re-derived from the run's `claim_result.csv` files and the ledger is
  not the digest the check returned (the outbox was edited or replaced after the check, or another approval
  committed first), or the run is already recorded, or the approver is the user who triggered the run or not
  among `EIKIS_CLAIMS_APPROVERS` — nothing was recorded; trigger a new run (as a user other than the approver),
  it shows what is still due (`payout_eur` may be 0 or negative).
- `approve_payout` failed with a timeout: nobody answered in time; trigger again.
- `deliver` (one mapped task per recipient): retried with backoff; identical files are not sent twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Connection, Param, dag, get_current_context, task

from pipeline.flows import claims as flow
from pipeline.flows.failures import one_line_errors

NULLABLE = ["null", "string"]


class PayoutApproval(ApprovalOperator):
    """The approval request, addressed at run time from the run's resolved config: only the configured approvers
    (`EIKIS_CLAIMS_APPROVERS`) may answer, and it waits `EIKIS_CLAIMS_APPROVAL_HOURS` (then fails: nothing paid)."""

    def execute(self, context: Any) -> Any:
        config = flow.ClaimsConfig.from_params(context["ti"].xcom_pull(task_ids="resolve_config"))
        self.assigned_users = flow.assigned_users(config)
        self.response_timeout = flow.response_timeout(config)
        return super().execute(context)


@dag(
    dag_id="eikis_claims",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "claims", "payout"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
    params={
        "period": Param("", type="string", pattern=r"^\d{4}-\d{2}$", title="Consumption month",
                        description="YYYY-MM whose claims are checked and paid."),
        "as_of": Param(None, type=NULLABLE, title="As of month",
                       description="YYYY-MM the window is judged at; empty = the current month."),
    },
)
def eikis_claims() -> None:
    @task
    @one_line_errors
    def resolve_config() -> dict[str, Any]:
        return flow.ClaimsConfig.resolve(dict(get_current_context()["params"])).to_params()

    @task
    @one_line_errors
    def check_claims(config: dict[str, Any]) -> dict[str, Any]:
        summary = flow.check(flow.ClaimsConfig.from_params(config))
        summary["approval_body"] = flow.approval_body(summary)
        print(summary["approval_body"])
        return summary

    approve_payout = PayoutApproval(
        task_id="approve_payout",
        subject="EIKIS: approve the supplier compensation payout for {{ params.period }}",
        body="{{ ti.xcom_pull(task_ids='check_claims')['approval_body'] }}",
    )

    @task
    @one_line_errors
    def record_payout(config: dict[str, Any], summary: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        # four eyes, then exactly the run and payout digest the approver saw (the check's XCom, not the outbox)
        triggered_by = get_current_context()["dag_run"].triggering_user_name
        recorded = flow.approve_reviewed(flow.ClaimsConfig.from_params(config), summary, response, triggered_by)
        print(f"recorded {recorded['entries']} ledger entr(ies) of run {recorded['run_id']} approved by "
              f"{recorded['approved_by']}, payout total {recorded['payout_total_eur']} EUR")
        return recorded

    @task
    @one_line_errors
    def plan_delivery(config: dict[str, Any], recorded: dict[str, Any]) -> list[dict[str, Any]]:
        return flow.plan_delivery(flow.ClaimsConfig.from_params(config))

    @task(retries=3, retry_delay=dt.timedelta(minutes=2), retry_exponential_backoff=True,
          map_index_template="{{ recipient }}")
    @one_line_errors
    def deliver(config: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
        get_current_context()["recipient"] = plan["recipient"]
        claims = flow.ClaimsConfig.from_params(config)
        return flow.deliver_planned(claims, plan, flow.endpoint_connection(claims, plan, Connection.get))

    config = resolve_config()
    summary = check_claims(config)
    recorded = record_payout(config, summary, approve_payout.output)
    summary >> approve_payout
    deliver.partial(config=config).expand(plan=plan_delivery(config, recorded))


eikis_claims()
