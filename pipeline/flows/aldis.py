"""The ALDIS protected-user flow for consumption month P (CONTRACTS §12), without Airflow.

`run_aldis` is what `eikis aldis` does: read SOPA and the traders' contract lists (everything is read and checked
before anything is written), apply the §12 rules, then build the outbox aside and publish it with one rename, and
write the run report. The task bodies below it are what the `aldis_protected_users` DAG calls: JSON-serialisable
arguments and results, heavy imports inside the functions.

Calendar (seed 000): SOPA prepares P on the 1st of P+1, the system loads on the 5th, traders receive their files
on the 7th (00:00 Europe/Riga) and bill P with the reduction from then on.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.config import FlowConfig, Settings, deployed, derived, switch
from pipeline.deliver.tasks import deliver_planned as deliver_planned  # the DAG's delivery task bodies
from pipeline.deliver.tasks import endpoint_connection as endpoint_connection
from pipeline.errors import SourceError
from pipeline.inbox import listing, naming_the_inbox, private_copies, private_root
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.runlock import period_lock
from pipeline.traders import load_traders

log = get_logger("flows.aldis")

RIGA = ZoneInfo("Europe/Riga")
DELIVERY_DAY = 7  # of the month after P (seed 000)


@dataclass
class AldisResult:
    """What one ALDIS run published: counts only, JSON-serialisable."""

    period: str
    run_id: str
    outbox: str
    report: str
    sopa_records: int
    passed: dict[str, int] = field(default_factory=dict)     # trader reg_no -> records passed
    returned: dict[str, int] = field(default_factory=dict)   # reason -> records returned
    files: dict[str, int] = field(default_factory=dict)      # path under <outbox>/<P> -> rows
    quarantined: dict[str, int] = field(default_factory=dict)  # "<source>:<reason>" -> rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sopa_files(inbox: Path, period: str) -> list[Path]:
    """`<inbox>/<P>/sopa/*.xml` through the inbox's checked door (`pipeline.inbox.listing`): required, because with
    no SOPA extract every trader would get an empty file; a folder named like an extract, a link or a subfolder
    stops the run, so no protected user is silently left out."""
    files = listing(inbox, period, "sopa", ".xml")
    if not files:
        raise SourceError("required source sopa is missing: no *.xml files", file=Path(inbox) / period / "sopa")
    return files


def aldis_workdir(workdir: Path, period: str) -> Path:
    """Internal files of one ALDIS run (quarantine, report, data docs): never the outbox."""
    return Path(workdir) / period / "aldis"


def run_aldis(period: str, inbox: Path, outbox: Path, traders: Path, workdir: Path, settings: Settings,
              db_url: str | None = None) -> AldisResult:
    """Read, decide and publish P's ALDIS outbox; nothing is published unless every step succeeds. One run of P at
    a time: P's lock on the ALDIS outbox root and the ALDIS work folder (a second run is refused in one line)."""
    parse_month(period)
    with period_lock(period, Path(outbox), aldis_workdir(workdir, period)):
        return _run_aldis_locked(period, inbox, outbox, traders, workdir, settings, db_url)


def _run_aldis_locked(period: str, inbox: Path, outbox: Path, traders: Path, workdir: Path, settings: Settings,
                      db_url: str | None) -> AldisResult:
    from pipeline.decide.aldis import AldisFacts, AldisReason, decide_protected_users  # lazy: not at DAG parse
    from pipeline.publish.aldis import (
        write_aldis_manifest,
        write_aldis_report,
        write_returns,
        write_trader_files,
    )
    from pipeline.publish.atomic import build_folder, publish
    from pipeline.publish.manifest import derive_run_id
    from pipeline.quality.expectations import validate_frame
    from pipeline.sources.common import Quarantine
    from pipeline.sources.contracts import read_contract_lists, trader_folders
    from pipeline.sources.sopa import read_protected_users

    register = load_traders(traders)
    work = aldis_workdir(workdir, period)
    copies_root = private_root(workdir, period, "aldis")  # the run reads only its private copies (issue 28)
    sopa = private_copies(inbox, period, sopa_files(inbox, period), copies_root)
    lists = {reg_no: private_copies(inbox, period, files, copies_root)
             for reg_no, files in trader_folders(inbox, period).items()}
    with naming_the_inbox(inbox, period, copies_root):
        users = [user for copy in sopa for user in read_protected_users(copy.path)]
        contracts = read_contract_lists(lists)
    validate_frame("contracts", contracts.staged, contracts.records, settings, work / "data_docs" / "contracts")
    decision = decide_protected_users(users, AldisFacts(period, register, contracts))

    sopa_quarantine = Quarantine("sopa")
    for item in decision.returned:
        if item.reason == AldisReason.INVALID_PERSON_CODE:
            sopa_quarantine.add(file=f"sopa/{item.user.file}", record=item.user.record, line=0,
                                reason=item.reason, detail="PersonCode fails the §3 rule")
    _save_quarantine(work, sopa_quarantine, contracts.quarantine)

    digests = [copy.sha256 for copy in sopa] + [str(item["sha256"]) for item in contracts.files]
    run_id = derive_run_id(period, digests, register.digest)
    with build_folder(Path(outbox), period) as build:
        written = write_trader_files(build, period, register, decision)
        written.append(write_returns(build, decision))
        write_aldis_manifest(build, period, run_id, written)
        published = publish(build, Path(outbox), period)
    quarantined = {f"{q.source}:{reason}": count for q in (sopa_quarantine, contracts.quarantine)
                   for reason, count in q.counts().items()}
    report = write_aldis_report(work / "report.md", period, run_id, register, decision, len(users),
                                contracts.quarantine.counts())
    result = AldisResult(
        period=period, run_id=run_id, outbox=str(published), report=str(report), sopa_records=len(users),
        passed=dict(sorted(Counter(item.user.trader_reg_no for item in decision.passed).items())),
        returned=dict(sorted(Counter(str(item.reason) for item in decision.returned).items())),
        files={item.path: item.rows for item in sorted(written, key=lambda item: item.path)},
        quarantined=quarantined,
    )
    log.info("aldis %s: %d SOPA records, %d passed, %d returned %s", period, len(users), len(decision.passed),
             len(decision.returned), result.returned)
    if db_url:
        from pipeline.store.aldis import record_aldis_run  # lazy: not at DAG parse

        record_aldis_run(db_url, result)
    return result


def _save_quarantine(work: Path, *quarantines: Any) -> None:
    import pyarrow.parquet as pq  # lazy: not at DAG parse

    folder = work / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    for quarantine in quarantines:
        pq.write_table(quarantine.table(), folder / f"{quarantine.source}.parquet", compression="zstd")


# ---------------------------------------------------------------- task bodies for the DAG
def previous_month(logical_date: dt.datetime) -> str:
    """The run on the 5th of a month (Latvian time) is for the month before it."""
    local = logical_date.astimezone(RIGA) if logical_date.tzinfo else logical_date
    return format_month(local.year * 12 + local.month - 1 - 1)


def delivery_time(period: str) -> dt.datetime:
    """00:00 Europe/Riga on the 7th of the month after P: when traders may receive P's file."""
    following = parse_month(period) + 1
    return dt.datetime(following // 12, following % 12 + 1, DELIVERY_DAY, tzinfo=RIGA)


def _wait_until(resolved: dict[str, Any]) -> str:
    """The 7th, or P's first day (already past: the deferrable wait ends at once) with `wait_for_delivery_day` off."""
    period, first_day = resolved["period"], dt.datetime.fromisoformat(f"{resolved['period']}-01")
    return (delivery_time(period) if resolved["wait_for_delivery_day"] else first_day.replace(tzinfo=RIGA)).isoformat()


@dataclass(frozen=True)
class AldisConfig(FlowConfig):
    """One ALDIS run: the month (the `period` param, else the month before the run's logical date) and the
    delivery-day switch from the trigger, every path from the deployment, and when to deliver to traders."""

    period: str
    wait_for_delivery_day: bool = switch(lambda wait: wait is not False)
    inbox: str = deployed()
    outbox: str = deployed("aldis_outbox")
    workdir: str = deployed()
    traders: str = deployed()
    recipients: str | None = deployed("aldis_recipients")
    db_url: str | None = deployed()
    wait_until: str = derived(_wait_until)

    @staticmethod
    def period_of(logical_date: dt.datetime | None) -> str | None:
        return previous_month(logical_date) if logical_date else None


def build(config: AldisConfig) -> dict[str, Any]:
    """Task body: the whole embedded run (read, decide, publish, report)."""
    result = run_aldis(config.period, Path(config.inbox), Path(config.outbox), Path(config.traders),
                       Path(config.workdir), Settings.from_env(), config.db_url)
    return result.to_dict()


def plan(config: AldisConfig, part: str) -> list[dict[str, Any]]:
    """Delivery plans for `part` "traders" (one per production trader's file, labelled with the trader's name for
    the UI) or "sopa" (the returns); none without a recipients file. A file for a trader that is not in
    production for P is refused here too, so it can never be sent."""
    from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries  # lazy: not at DAG parse

    if not config.recipients:
        return []
    register = load_traders(Path(config.traders))
    plans = plan_deliveries(Path(config.outbox), config.period, RecipientsConfig.load(
        Path(config.recipients)), recipient_of=aldis_recipient_of)
    for item in plans:
        if item.recipient == "sopa":
            item.label = "SOPA"
            continue
        trader = register.get(item.recipient.split("/")[-1])
        if trader is None or not trader.in_production(config.period):
            raise SourceError(f"{item.recipient} is not in production for {config.period}; not delivered",
                              file=config.traders)
        item.label = trader.name
    wanted = [item for item in plans if (item.recipient == "sopa") == (part == "sopa")]
    return [item.to_dict() for item in wanted]


def aldis_recipient_of(path: str) -> str:
    """`traders/<reg_no>/protected_contracts.csv` -> `traders/<reg_no>`; `sopa_returns.csv` -> `sopa`."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 1 else "sopa"
