"""Retention (CONTRACTS §15): personal data and the access log are kept 24 months after their month, then deleted,
and the deletion is recorded and provable.

What holds personal data, per month M:
- in the workdir `<M>/`: everything except `summaries/` and `report/` (counts and aggregates only) — so staging,
  quarantine, decision records, Data Docs (they may quote values) and any folder a later flow adds are deleted
  unless they are known to be free of personal data;
- in the store: the household and member rows and the portal's search index for period M
  (`PERSONAL_TABLES`), and access-log rows written in month M.
Published recipient files, the manifest rows and the run/delivery records hold no personal data and stay.

`--apply` deletes each item and writes a `deletion_log` row (month, kind, target, how many, sha256 of what was
deleted) in the same transaction; `--verify` finds nothing or exits 1. The Airflow DAG `eikis_retention` and the
CLI both call `apply_retention` / `verify_retention`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.store.db import connect

log = get_logger("retention")

KEEP_MONTHS = 24
PERSONAL_TABLES = ("household_decisions", "household_members", "portal_persons", "portal_name_tokens",
                   "portal_households")
FOLDERS_WITHOUT_PERSONAL_DATA = ("summaries", "report")
_MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class Expired:
    """One thing past retention: a folder of a month, a table's rows of a month, or a month of access-log rows."""

    month: str
    kind: str       # "files" | "rows" | "access_log"
    target: str     # "<M>/<folder>" relative to the workdir, or a table name
    items: int      # files or rows


def this_month() -> str:
    today = dt.datetime.now(dt.UTC).date()
    return f"{today.year:04d}-{today.month:02d}"


def horizon(as_of: str) -> str:
    """The first month still kept: months before it are more than 24 months before `as_of`."""
    return format_month(parse_month(as_of) - KEEP_MONTHS)


def find_expired(engine: Engine, workdir: Path, as_of: str) -> list[Expired]:
    cutoff = horizon(as_of)
    found: list[Expired] = []
    if Path(workdir).is_dir():
        for month_dir in sorted(Path(workdir).iterdir()):
            if not (month_dir.is_dir() and _MONTH_FOLDER.match(month_dir.name) and month_dir.name < cutoff):
                continue
            for folder in sorted(month_dir.iterdir()):
                if folder.name in FOLDERS_WITHOUT_PERSONAL_DATA:
                    continue
                files = [folder] if folder.is_file() else [f for f in folder.rglob("*") if f.is_file()]
                found.append(Expired(month_dir.name, "files", f"{month_dir.name}/{folder.name}", len(files)))
    with engine.connect() as conn:
        for table in PERSONAL_TABLES:
            for period, count in conn.execute(text(
                    f"SELECT period, count(*) FROM {table} WHERE period < :cutoff GROUP BY period ORDER BY period"),
                    {"cutoff": cutoff}):
                found.append(Expired(period, "rows", table, int(count)))
        for month, count in _access_log_months(conn, _access_log_cutoff(as_of)).items():
            found.append(Expired(month, "access_log", "access_log", count))
    return found


def _access_log_cutoff(as_of: str) -> dt.datetime:
    """Start of the first kept month for the access log. Never later than the real horizon: the store's trigger
    refuses to delete younger rows, whatever `--as-of` says."""
    first_kept = parse_month(horizon(min(as_of, this_month())))
    return dt.datetime(first_kept // 12, first_kept % 12 + 1, 1)


def _access_log_months(conn: Connection, before: dt.datetime) -> dict[str, int]:
    months: dict[str, int] = {}
    for (at,) in conn.execute(text("SELECT at FROM access_log WHERE at < :before"), {"before": before}):
        month = str(at)[:7]
        months[month] = months.get(month, 0) + 1
    return months


def apply_retention(url: str, workdir: Path, as_of: str | None = None) -> list[Expired]:
    """Delete everything past retention, one recorded deletion per item; returns what was deleted."""
    as_of = as_of or this_month()
    engine = connect(url)
    expired = find_expired(engine, workdir, as_of)
    for item in expired:
        with engine.begin() as conn:
            digest = _delete(conn, Path(workdir), item, as_of)
            conn.execute(text("INSERT INTO deletion_log (at, as_of, month, kind, target, items, sha256) "
                              "VALUES (:at, :as_of, :month, :kind, :target, :items, :sha)"),
                         {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "as_of": as_of, "month": item.month,
                          "kind": item.kind, "target": item.target, "items": item.items, "sha": digest})
        log.info("retention: deleted %s %s of %s (%d)", item.kind, item.target, item.month, item.items)
    return expired


def verify_retention(url: str, workdir: Path, as_of: str | None = None) -> list[Expired]:
    """What is still there although it is past retention (empty when retention holds)."""
    return find_expired(connect(url), workdir, as_of or this_month())


def _delete(conn: Connection, workdir: Path, item: Expired, as_of: str) -> str:
    """Delete one item (inside the caller's transaction) and return the sha256 of what was deleted."""
    if item.kind == "files":
        path = workdir / item.target
        digest = _tree_digest(path)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        return digest
    if item.kind == "rows":
        where, params = "period = :month", {"month": item.month}
        table = item.target
    else:
        start = parse_month(item.month)
        where = "at >= :start AND at < :end AND at < :before"
        params = {"start": dt.datetime(start // 12, start % 12 + 1, 1),
                  "end": dt.datetime((start + 1) // 12, (start + 1) % 12 + 1, 1),
                  "before": _access_log_cutoff(as_of)}
        table = "access_log"
    digest = hashlib.sha256()
    for row in sorted(conn.execute(text(f"SELECT * FROM {table} WHERE {where}"), params), key=repr):
        digest.update((repr(tuple(row)) + "\n").encode("utf-8"))
    conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params)
    return digest.hexdigest()


def _tree_digest(path: Path) -> str:
    """sha256 over each file's relative path and sha256, in path order: one fingerprint of a deleted folder."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(f for f in path.rglob("*") if f.is_file())
    for file in files:
        content = hashlib.sha256()
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023 - read now, in this iteration
                content.update(block)
        digest.update(f"{file.relative_to(path.parent)}\t{content.hexdigest()}\n".encode())
    return digest.hexdigest()


def retention_command(url: str, workdir: Path, as_of: str | None, *, apply: bool, verify: bool) -> int:
    """The CLI: list (default), apply, or verify; prints one line per item. Exit 1 when --verify finds any."""
    as_of = as_of or this_month()
    if apply:
        items = apply_retention(url, workdir, as_of)
        verb = "deleted"
    elif verify:
        items = verify_retention(url, workdir, as_of)
        verb = "LEFT"
    else:
        items = find_expired(connect(url), workdir, as_of)
        verb = "expired"
    for item in items:
        print(f"{verb}\t{item.month}\t{item.kind}\t{item.target}\t{item.items}")
    print(f"retention as of {as_of} (keeping {horizon(as_of)} and later): {len(items)} item(s) {verb}")
    return 1 if verify and items else 0


# Airflow task bodies (JSON in, JSON out): `dags/eikis_retention.py` only wires these.

RUN_PARAMS = ("as_of",)  # all a trigger may set; the store and the workdir are the deployment's


def resolve_config(params: dict[str, object], run_date: dt.datetime | None,
                   environ: dict[str, str] | None = None) -> dict[str, str]:
    """The store, the workdir (the deployment's) and the month retention counts from (the `as_of` param, else the
    run date's month, UTC)."""
    from pipeline.config import resolve_run

    when = run_date or dt.datetime.now(dt.UTC)
    request = resolve_run(params, RUN_PARAMS, f"{when.year:04d}-{when.month:02d}", environ, period_key="as_of")
    return {"db_url": request.deployment.db_url, "workdir": request.deployment.workdir, "as_of": request.period}


def apply_task(config: dict[str, str]) -> dict[str, object]:
    """A deployment's first run may come before any month was run: its workdir (where the default store lives)
    is then created owner-only, and there is nothing to delete yet."""
    from pipeline.config import make_private

    make_private(Path(config["workdir"]))
    deleted = apply_retention(config["db_url"], Path(config["workdir"]), config["as_of"])
    return {"as_of": config["as_of"], "deleted": [vars(item) for item in deleted]}


def verify_task(config: dict[str, str]) -> dict[str, object]:
    """Fails the task (so the run is red and alerts) when anything past retention is still there."""
    from pipeline.errors import EikisError

    left = verify_retention(config["db_url"], Path(config["workdir"]), config["as_of"])
    if left:
        raise EikisError(f"retention left {len(left)} item(s) past 24 months, e.g. {left[0].kind} {left[0].target} "
                         f"of {left[0].month}")
    return {"as_of": config["as_of"], "left": 0}
