"""Corrections (CONTRACTS §16): a confirmed appeal decision reaches the suppliers and municipalities of P.

`publish_corrections` reads, under P's lock, the households confirmed UPHELD decisions make ELIGIBLE for P (the
store), what every recipient has (the published files of P with every earlier correction set applied), decides the
changed rows (`decide.corrections`) and publishes them as the next numbered set `<outbox>/<P>/corrections/<NN>/`,
built aside and renamed into place; with nothing new it publishes nothing. Delivery is the monthly flow's: the same
recipients file, plans and verified SFTP upload, one recipient's `changes.csv` and its own manifest per set.
The CLI (`eikis corrections`) and the DAG `eikis_corrections` (daily, or on demand for one period) call these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.config import Deployment, FlowConfig, WorkLayout, deployed, run_params
from pipeline.decide.corrections import decide_changes
from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries
from pipeline.deliver.tasks import deliver_planned
from pipeline.deliver.tasks import endpoint_connection as endpoint_connection  # a task body of the DAG
from pipeline.errors import EikisError
from pipeline.handoff import DecisionSummary
from pipeline.logs import get_logger
from pipeline.period import parse_month
from pipeline.publish.atomic import build_folder, publish, remove_stale
from pipeline.publish.corrections import write_set
from pipeline.runlock import period_lock
from pipeline.sources.corrections import correction_sets, corrections_folder
from pipeline.sources.published import open_outbox
from pipeline.store import appeals
from pipeline.store.db import connect

log = get_logger("corrections")


@dataclass(frozen=True)
class CorrectionsConfig(FlowConfig):
    """Where one corrections run of P reads and writes (the deployment's EIKIS_DB_URL, EIKIS_OUTBOX for the
    published files and their correction sets, EIKIS_WORKDIR, EIKIS_RECIPIENTS, EIKIS_ALDIS_OUTBOX)."""

    period: str
    db_url: str = deployed()
    published: str = deployed("outbox")  # the §10 outbox root
    outbox: str = deployed()             # corrections go to <outbox>/<P>/corrections/<NN>/
    workdir: str = deployed()            # the month's decision records (<workdir>/<P>/decisions/)
    aldis: str | None = deployed("aldis_outbox", default=None)
    recipients: str | None = deployed(default=None)


def publish_corrections(cfg: CorrectionsConfig) -> dict[str, Any]:
    """Publish P's next correction set; `{"period", "set": None}` when nothing new was confirmed."""
    parse_month(cfg.period)
    with period_lock(cfg.period, Path(cfg.outbox)):
        original = open_outbox(Path(cfg.published), cfg.period)
        sets = correction_sets(Path(cfg.outbox), cfg.period)
        layout = WorkLayout(Path(cfg.workdir), cfg.period)
        upheld = {code: item.case_ref for code, item in appeals.upheld(connect(cfg.db_url), cfg.period).items()}
        changes = decide_changes(layout, DecisionSummary.load(layout).support_types_on, upheld, original, sets)
        if not changes:
            return {"period": cfg.period, "set": None, "files": 0}
        name = f"{int(sets[-1].name) + 1 if sets else 1:02d}"
        if int(name) > 99:
            raise EikisError(f"corrections {cfg.period}: 99 correction sets already published")
        folder = corrections_folder(Path(cfg.outbox), cfg.period)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale(folder, name)
        with build_folder(folder, name) as build:
            manifest = write_set(build, cfg.period, name, changes)
            publish(build, folder, name)
    log.info("corrections %s: published set %s (%d file(s))", cfg.period, name, len(changes))
    return {"period": cfg.period, "set": name, "run_id": manifest["run_id"], "files": len(changes)}


def summary_line(result: dict[str, Any]) -> str:
    if result["set"] is None:
        return f"corrections {result['period']}: nothing new to publish"
    return (f"corrections {result['period']}: published set {result['set']} ({result['files']} recipient file(s), "
            f"run {result['run_id']})")


def set_period(period: str, name: str) -> str:
    """The 'period' the monthly delivery code is given for a set: `<P>/corrections/<NN>`, so it reads the set's
    own manifest and each recipient's files land in `<remote>/<P>/corrections/<NN>/`."""
    return f"{period}/corrections/{name}"


def plan_delivery(cfg: CorrectionsConfig) -> list[dict[str, Any]]:
    """One plan per recipient of every published set of P (delivery skips files already there, so a set whose
    delivery failed before is completed and a delivered one costs a checksum); none without a recipients file."""
    if not cfg.recipients:
        return []
    recipients = RecipientsConfig.load(Path(cfg.recipients))
    return [{**plan.to_dict(), "set_period": set_period(cfg.period, item.name)}
            for item in correction_sets(Path(cfg.outbox), cfg.period)
            for plan in plan_deliveries(Path(cfg.outbox), set_period(cfg.period, item.name), recipients)]


def deliver_one(cfg: CorrectionsConfig, plan: dict[str, Any],
                connection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One recipient's set over SFTP: the verified, atomic delivery every flow shares (`deliver.tasks`)."""
    return deliver_planned(replace(cfg, period=plan["set_period"]),
                           {k: v for k, v in plan.items() if k != "set_period"}, connection)


def resolve_config(params: dict[str, Any], environ: dict[str, str] | None = None) -> list[CorrectionsConfig]:
    """The DAG's runs: the `period` param (on demand), else every month a confirmed appeal decision covers that
    has a published outbox (the daily run)."""
    run_params(params, CorrectionsConfig.trigger_params())  # an undeclared key is refused before the store is read
    where = Deployment.from_env(environ)
    months = [params["period"]] if params.get("period") else [
        month for month in appeals.confirmed_months(connect(where.db_url))
        if (Path(where.outbox) / month / "manifest.json").is_file()]
    return [CorrectionsConfig.resolve({**params, "period": month}, None, environ) for month in months]
