"""
### EIKIS policy simulation — "what if the threshold were …?" on a decided month (CONTRACTS §17)

On demand only. Re-decides the already ingested month `period` from its staging (nothing is read from the inbox
again) under the policy in force (`EIKIS_POLICY`, the **baseline**) and under each **variant**, with the monthly
run's own rules, and writes `simulation.csv` and `simulation.html` to `EIKIS_SIMULATION_OUT/<period>/`:
households, eligible households and persons, eligible dwellings per commodity, the estimated monthly
compensation, newly and no longer eligible households — in total, by municipality, by household size and by the
baseline's income decile. Aggregates only: a cell resting on fewer than 5 households reads `<5`.

**Run:** *Trigger DAG w/ config*: `period` (YYYY-MM, ingested by a monthly run) and `variants`, a list of policy
file **names** (e.g. `["threshold_plus_10.yaml"]`) in the deployment's simulation policies folder
(`EIKIS_SIMULATION_POLICIES`, default `variants/` beside `EIKIS_POLICY`). A variant is a full policy file; its
name in the output is the file's stem. Paths are refused.

**When the task fails** its log's last line says why: the month is not ingested in `EIKIS_WORKDIR` (run the
monthly DAG for it first), a variant file is not in the folder or is not a valid policy (the line names the key),
or a monthly run of the same month holds its lock (wait, then clear the task).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.flows import simulate as flow
from pipeline.flows.failures import one_line_errors


@dag(
    dag_id="eikis_simulate",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["eikis", "simulation"],
    doc_md=__doc__,
    default_args={"owner": "eikis-data", "retries": 0, "show_return_value_in_logs": False},
    params={
        "period": Param("2026-11", type="string", pattern=r"^\d{4}-\d{2}$", title="Month",
                        description="YYYY-MM: a month already ingested by the monthly run."),
        "variants": Param(["threshold_plus_10.yaml"], type="array", items={"type": "string"}, minItems=1,
                          title="Variant policies",
                          description="Policy file names in the simulation policies folder (not paths)."),
    },
)
def eikis_simulate() -> None:
    @task
    @one_line_errors
    def simulate() -> dict[str, Any]:
        return flow.simulate_request(dict(get_current_context()["params"]))

    simulate()


eikis_simulate()
