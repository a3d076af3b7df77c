"""Task bodies for the Airflow DAG, as plain functions: JSON-serialisable arguments and results (they travel as
XComs), no Airflow import, and heavy imports only inside the functions so the DAG file parses fast.

Configuration comes from the run's params, falling back to `EIKIS_*` environment variables, then to defaults.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


@dataclass(frozen=True)
class RunConfig:
    period: str
    inbox: str
    outbox: str
    workdir: str
    policy: str
    db_url: str
    recipients: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_of_interval(start: dt.datetime) -> str:
    """The consumption month a data interval covers: the month of its start, in Latvian time."""
    local = start.astimezone(RIGA) if start.tzinfo else start
    return f"{local.year:04d}-{local.month:02d}"


def resolve_config(params: dict[str, Any], data_interval_start: dt.datetime | None,
                   environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Params win over `EIKIS_*` variables, which win over defaults; the period comes from the data interval
    unless a param names one (a manual run for any month)."""
    from pipeline.period import parse_month
    from pipeline.store.db import default_url

    env = os.environ if environ is None else environ

    def pick(name: str, variable: str, default: str | None) -> str | None:
        value = params.get(name)
        return str(value) if value not in (None, "") else env.get(variable, default)

    period = params.get("period") or (period_of_interval(data_interval_start) if data_interval_start else None)
    if not period:
        raise ValueError("no period: give the `period` param or run the DAG on a schedule")
    parse_month(str(period))
    workdir = pick("workdir", "EIKIS_WORKDIR", "/opt/eikis/work")
    config = RunConfig(
        period=str(period),
        inbox=pick("inbox", "EIKIS_INBOX", "/opt/eikis/inbox"),
        outbox=pick("outbox", "EIKIS_OUTBOX", "/opt/eikis/outbox"),
        workdir=workdir,
        policy=pick("policy", "EIKIS_POLICY", "/opt/eikis/policy/eikis_policy.yaml"),
        db_url=pick("db_url", "EIKIS_DB_URL", None) or default_url(Path(workdir)),
        recipients=pick("recipients", "EIKIS_RECIPIENTS", None),
    )
    return config.to_dict()


def inbox_missing(config: dict[str, Any]) -> list[str]:
    """Required sources with no file yet for P (the sensor waits until this is empty)."""
    from pipeline.errors import SourceError
    from pipeline.ingest import SOURCES, source_files

    missing = []
    for spec in SOURCES.values():
        try:
            source_files(Path(config["inbox"]), config["period"], spec)
        except SourceError:
            missing.append(spec.name)
    return missing


def inbox_ready(config: dict[str, Any], scheduled: bool) -> bool:
    """The `wait_for_inbox` sensor's answer: True when every source of P is in, False to keep waiting.

    Only a scheduled run waits, and only once the inbox for P has begun to fill (`<inbox>/<P>/` exists). A
    scheduled run for a month nothing was delivered for (e.g. the one Airflow creates when the DAG is unpaused)
    and a manual run with a source missing fail at once with one line instead: with `max_active_runs=1` a run
    that waits days blocks every manual run behind it.
    """
    from pipeline.errors import SourceError

    missing = inbox_missing(config)
    if not missing:
        return True
    folder = Path(config["inbox"]) / config["period"]
    if not scheduled:
        raise SourceError(f"no file yet for {', '.join(missing)}; a manual run does not wait: trigger it again "
                          "once every source has landed", file=folder)
    if not folder.is_dir():
        raise SourceError(f"nothing delivered for {config['period']} (no inbox folder); this scheduled run stops "
                          f"instead of waiting: trigger the DAG with period={config['period']} once the providers "
                          "have delivered", file=folder)
    print(f"waiting for sources of {config['period']}: {', '.join(missing)}")
    return False


def ingest_one(config: dict[str, Any], source: str) -> dict[str, Any]:
    from pipeline.config import Settings
    from pipeline.ingest import ingest_source
    from pipeline.policy import load_policy
    from pipeline.publish.lock import period_lock
    from pipeline.quality.expectations import validate_source

    settings = Settings.from_env()
    policy = load_policy(Path(config["policy"]), config["period"])
    with period_lock(config["period"], Path(config["workdir"]), shared=True):  # the run's other ingests share it
        summary = ingest_source(source, config["period"], Path(config["inbox"]), Path(config["workdir"]), settings)
        validate_source(source, config["period"], Path(config["workdir"]), settings, policy)
    return {"source": source, "records": summary.records, "staged": summary.staged,
            "quarantined": summary.quarantined}


def decide(config: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict as as_dict

    from pipeline.config import Settings
    from pipeline.decide.run import decide_period
    from pipeline.policy import load_policy
    from pipeline.publish.lock import period_lock

    policy = load_policy(Path(config["policy"]), config["period"])
    with period_lock(config["period"], Path(config["workdir"])):
        return as_dict(decide_period(config["period"], Path(config["workdir"]), policy, Settings.from_env()))


def publish(config: dict[str, Any]) -> dict[str, Any]:
    from pipeline.policy import load_policy
    from pipeline.publish.lock import period_lock
    from pipeline.stages import build_and_publish

    policy = load_policy(Path(config["policy"]), config["period"])
    with period_lock(config["period"], Path(config["workdir"]), Path(config["outbox"])):
        result = build_and_publish(config["period"], Path(config["workdir"]), Path(config["outbox"]), policy)
    return {"run_id": result.run_id, "outbox": str(result.outbox), "files": len(result.files),
            "report": str(result.report)}


def plan(config: dict[str, Any]) -> list[dict[str, Any]]:
    """One delivery plan per recipient; none when no recipients file is configured."""
    from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries

    if not config.get("recipients"):
        return []
    recipients = RecipientsConfig.load(Path(config["recipients"]))
    return [p.to_dict() for p in plan_deliveries(Path(config["outbox"]), config["period"], recipients)]


def endpoint_entry(config: dict[str, Any], plan_entry: dict[str, Any]) -> dict[str, Any]:
    """The raw endpoint entry of a plan (it may name an Airflow connection: `airflow_conn_id`)."""
    from pipeline.deliver.sftp import RecipientsConfig

    return dict(RecipientsConfig.load(Path(config["recipients"])).endpoints[plan_entry["endpoint"]])


def deliver_one(config: dict[str, Any], plan_entry: dict[str, Any],
                connection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Deliver one recipient; `connection` (an Airflow connection's host, port, login, password and extra)
    overrides the recipients file's endpoint."""
    from pipeline.deliver.sftp import DeliveryPlan, Endpoint, RecipientsConfig, deliver

    plan_obj = DeliveryPlan(**plan_entry)
    if connection is None:
        endpoint_obj = RecipientsConfig.load(Path(config["recipients"])).endpoint(plan_obj.endpoint)
    else:
        endpoint_obj = Endpoint.from_connection(**connection)
    rows = deliver(plan_obj, endpoint_obj, Path(config["outbox"]), config["period"], attempts=2)
    return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()} for row in rows]


def record(config: dict[str, Any], run_id: str, deliveries: list[list[dict[str, Any]]] | None) -> dict[str, int]:
    from pipeline.store.db import record_deliveries, record_period

    loaded = record_period(config["db_url"], config["period"], Path(config["workdir"]), Path(config["outbox"]),
                           run_id)
    rows = [row for group in (deliveries or []) for row in (group or [])]
    if rows:
        record_deliveries(config["db_url"], config["period"], run_id, rows)
    loaded["deliveries"] = len(rows)
    return loaded
