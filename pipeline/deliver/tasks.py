"""The delivery task bodies every delivering flow shares (monthly, ALDIS, claims): one recipient's verified,
atomic SFTP delivery of a published outbox, and the Airflow connection its endpoint names.

Each flow keeps only its own planning (which files go to whom); how a plan is carried out is written once, here,
so a fix to delivery reaches every flow and no flow imports another for it. Both take the flow's frozen config
(`pipeline.config.FlowConfig`: its month, outbox and recipients file) and are the flows' task bodies as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class Delivering(Protocol):
    """What delivery reads of a flow's config."""

    period: str
    outbox: str
    recipients: str | None


def endpoint_connection(config: Delivering, plan: dict[str, Any],
                        get_connection: Callable[[str], Any]) -> dict[str, Any] | None:
    """The Airflow connection a plan's endpoint names (`airflow_conn_id` in the recipients file) as
    `deliver_planned` takes it (host, port, login, password and extra, which carries the mandatory `host_key` or
    `known_hosts`), or None when the endpoint is given in the file itself.

    Every delivering DAG passes Airflow's `Connection.get` as `get_connection`, so the lookup is written once and
    `pipeline` never imports Airflow."""
    from pipeline.deliver.sftp import RecipientsConfig  # lazy: the flows import this module at DAG parse

    entry = RecipientsConfig.load(Path(str(config.recipients))).endpoints[plan["endpoint"]]
    if "airflow_conn_id" not in entry:
        return None
    found = get_connection(entry["airflow_conn_id"])
    return {"host": found.host, "port": found.port, "login": found.login, "password": found.password,
            "extra": found.extra_dejson}


def deliver_planned(config: Delivering, plan: dict[str, Any],
                    connection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Deliver one recipient's planned files of `<outbox>/<P>`; `connection` (an Airflow connection's host, port,
    login, password and extra) overrides the recipients file's endpoint. Returns one JSON-ready row per file for
    the store."""
    from pipeline.deliver.sftp import DeliveryPlan, Endpoint, RecipientsConfig, deliver  # lazy: as above

    planned = DeliveryPlan(**{key: value for key, value in plan.items() if key != "name"})  # name: a label only
    if connection is None:
        if not config.recipients:
            raise ValueError("no recipients file and no connection: nothing says where to deliver")
        target = RecipientsConfig.load(Path(config.recipients)).endpoint(planned.endpoint)
    else:
        target = Endpoint.from_connection(**connection)
    rows = deliver(planned, target, Path(config.outbox), config.period, attempts=2)
    return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()} for row in rows]
