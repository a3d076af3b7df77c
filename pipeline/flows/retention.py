"""Retention (CONTRACTS §15): personal data and the access log are kept 24 months after their month, then deleted,
and the deletion is recorded and provable.

What holds personal data, per month M:
- in the workdir `<M>/`: everything except `summaries/` (counts and aggregates only) — so staging, quarantine,
  decision records, Data Docs (they may quote values), the run report (it lists each REVIEW household's address
  and its members' person keys) and any folder a later flow adds are deleted unless known to be free of it;
- in the store: the household and member rows and the portal's search index for period M
  (`PERSONAL_TABLES`), and access-log rows written in month M; appeal decisions whose last covered month is M
  (§16). A court hold (`--hold CASE_REF`) keeps its case's households' rows and appeal rows until released.
- the copies (§15 v1.2), given as `copies` (CLI `--inbox`, `--claims`, `--aldis-outbox`; the DAG's deployment
  settings `EIKIS_INBOX`, `EIKIS_CLAIMS`, `EIKIS_ALDIS_OUTBOX`): `<inbox>/<M>/` (the raw extracts: names, codes,
  incomes, SOPA decisions), `<claims>/<M>/` (the suppliers' claims) and the ALDIS outbox's `<M>/` (its
  `protected_contracts.csv` ties a contract and an address to a social-assistance decision), each whole.
Published recipient files, the manifest rows and the run/delivery records hold no personal data and stay.

`--apply` proves each deletion ahead (`pipeline.store.deletion_log`): a STARTED row (what, how many, sha256 of the
content) is committed before anything is deleted, a COMPLETED row after (for store rows, in the deleting
transaction). An interrupted deletion (a killed process, a store that failed after the files went) leaves a
STARTED row alone, which `--verify` reports until `--apply` has finished it. `--verify` finds nothing or exits 1.
`--as-of` may not be later than the current month (a future month would delete months still kept). The Airflow
DAG `eikis_retention` and the CLI both call `apply_retention` / `verify_retention`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from pipeline.config import FlowConfig, deployed, make_private
from pipeline.errors import EikisError
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.store import appeals, deletion_log
from pipeline.store.appeals import ACTIVE_HOLDS_SQL, HELD_CODES_SQL, Hold, active_holds
from pipeline.store.db import connect
from pipeline.store.deletion_log import COMPLETED, STARTED, Deletion
from pipeline.store.partitions import PERSONAL_PERIOD_TABLES, drop_month

log = get_logger("retention")

KEEP_MONTHS = 24
PERSONAL_TABLES = PERSONAL_PERIOD_TABLES
FOLDERS_WITHOUT_PERSONAL_DATA = ("summaries",)
_MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")

Expired = Deletion  # what `find_expired` lists and `apply_retention` deletes
COPY_KINDS = ("inbox", "claims", "aldis_outbox")  # roots whose `<M>/` folders are deleted whole
Copies = Mapping[str, Path]  # kind (one of COPY_KINDS) -> root folder


def this_month() -> str:
    today = dt.datetime.now(dt.UTC).date()
    return f"{today.year:04d}-{today.month:02d}"


def checked_as_of(as_of: str | None) -> str:
    """The month retention counts from: this month by default; never a later one (that would delete kept months)."""
    current = this_month()
    if as_of is None:
        return current
    parse_month(as_of)
    if as_of > current:
        raise EikisError(f"retention --as-of {as_of} is later than the current month {current}: it would delete "
                         "months that are still kept")
    return as_of


def horizon(as_of: str) -> str:
    """The first month still kept: months before it are more than 24 months before `as_of`."""
    return format_month(parse_month(as_of) - KEEP_MONTHS)


def find_expired(engine: Engine, workdir: Path, as_of: str, copies: Copies | None = None) -> list[Expired]:
    cutoff = horizon(as_of)
    found: list[Expired] = []
    for kind, root in sorted((copies or {}).items()):
        found += [Expired(month.name, kind, month.name, _count_files(month)) for month in _expired_months(root, cutoff)]
    for month_dir in _expired_months(Path(workdir), cutoff):
        for folder in sorted(month_dir.iterdir()):
            if folder.name in FOLDERS_WITHOUT_PERSONAL_DATA:
                continue
            found.append(Expired(month_dir.name, "files", f"{month_dir.name}/{folder.name}", _count_files(folder)))
    with engine.connect() as conn:
        for table in PERSONAL_TABLES:
            periods = [row[0] for row in conn.execute(text(
                f"SELECT DISTINCT period FROM {table} WHERE period < :cutoff ORDER BY period"), {"cutoff": cutoff})]
            for period in periods:
                _, where, params = _rows_of(Expired(period, "rows", table, 0), as_of, _month_held(conn, period))
                count = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one()
                if count:   # rows a court hold keeps (§16) are not expired until it is released
                    found.append(Expired(period, "rows", table, int(count)))
        for month, count in sorted(_appeal_months(conn, cutoff).items()):
            found.append(Expired(month, "appeals", "appeal_decisions", count))
        for month, count in _access_log_months(conn, _access_log_cutoff(as_of)).items():
            found.append(Expired(month, "access_log", "access_log", count))
    return found


def _expired_months(root: Path, cutoff: str) -> list[Path]:
    """The month folders `<root>/<M>/` (real folders, not links) of months before `cutoff`."""
    if not root.is_dir():
        return []
    return [month for month in sorted(root.iterdir()) if _MONTH_FOLDER.match(month.name) and month.name < cutoff
            and month.is_dir() and not month.is_symlink()]


def _path(workdir: Path, copies: Copies, item: Expired) -> Path:
    """Where a deleted folder lives: the workdir for `files`, else the root of its kind."""
    return (workdir if item.kind == "files" else Path(copies[item.kind])) / item.target


def _count_files(path: Path) -> int:
    return 1 if path.is_file() else sum(1 for f in path.rglob("*") if f.is_file())


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


def apply_retention(url: str, workdir: Path, as_of: str | None = None,
                    copies: Copies | None = None) -> list[Expired]:
    """Delete everything past retention, each deletion proved ahead; returns what was deleted.

    First finishes the proof of earlier interrupted deletions whose target is gone by now."""
    as_of, copies = checked_as_of(as_of), _checked_copies(copies)
    engine = connect(url)
    _finish_interrupted(engine, Path(workdir), as_of, copies)
    expired = find_expired(engine, workdir, as_of, copies)
    for item in expired:
        _delete(engine, Path(workdir), copies, item, as_of)
        log.info("retention: deleted %s %s of %s (%d)", item.kind, item.target, item.month, item.items)
    return expired


def verify_retention(url: str, workdir: Path, as_of: str | None = None,
                     copies: Copies | None = None) -> list[Expired]:
    """What is still there although it is past retention, and every deletion started but never completed (its
    kind prefixed `unfinished `); empty when retention holds."""
    as_of, copies = checked_as_of(as_of), _checked_copies(copies)
    engine = connect(url)
    with engine.connect() as conn:
        interrupted = [Expired(item.month, f"unfinished {item.kind}", item.target, item.items)
                       for _, item, _ in deletion_log.unfinished(conn)]
    return find_expired(engine, workdir, as_of, copies) + interrupted


def _checked_copies(copies: Copies | None) -> dict[str, Path]:
    unknown = sorted(set(copies or {}) - set(COPY_KINDS))
    if unknown:
        raise EikisError(f"retention knows no copy of kind {unknown[0]!r} (known: {', '.join(COPY_KINDS)})")
    return {kind: Path(root) for kind, root in (copies or {}).items() if root}


def _delete(engine: Engine, workdir: Path, copies: Copies, item: Expired, as_of: str) -> None:
    """Delete one item: STARTED committed first, then the deletion, then COMPLETED."""
    deletion_id = uuid.uuid4().hex
    if item.kind == "files" or item.kind in COPY_KINDS:
        path = _path(workdir, copies, item)
        digest = _tree_digest(path)
        with engine.begin() as conn:
            deletion_log.write(conn, deletion_id, STARTED, item, as_of, digest)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        with engine.begin() as conn:
            deletion_log.write(conn, deletion_id, COMPLETED, item, as_of, digest)
        return
    if item.kind == "rows" and engine.dialect.name == "postgresql":
        _delete_month_rows(engine, deletion_id, item, as_of)
        return
    table, where, params = _rows_of(item, as_of)
    with engine.connect() as conn:
        digest = deletion_log.rows_digest(conn, table, where, params)
    with engine.begin() as conn:
        deletion_log.write(conn, deletion_id, STARTED, item, as_of, digest)
    with engine.begin() as conn:
        deleted_digest = deletion_log.rows_digest(conn, table, where, params)
        if table == "appeal_decisions" and conn.dialect.name == "postgresql":
            # Append-only for the application role: the owner's function removes expired, unheld decisions only.
            removed = conn.execute(text("SELECT appeal_decisions_purge(:month)"), params).scalar_one()
        elif table == "access_log" and conn.dialect.name == "postgresql":
            # The application role may not DELETE from the access log: the owner's function removes expired rows.
            removed = conn.execute(text("SELECT access_log_purge(:start, least(:end, :before))"), params).scalar_one()
        else:
            removed = conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params).rowcount
        done = Deletion(item.month, item.kind, item.target, int(removed))
        deletion_log.write(conn, deletion_id, COMPLETED, done, as_of, deleted_digest)


def _delete_month_rows(engine: Engine, deletion_id: str, item: Expired, as_of: str) -> None:
    """A month's rows of one personal table on PostgreSQL, proved once: the table is locked against every change
    (no row written, no month swapped in or out) before its rows are hashed, the STARTED proof is committed on a
    second connection while the lock holds, and the same transaction then drops the month's partition (or, where a
    court hold keeps some of its rows, deletes the others). So the digest is of exactly the rows that go, and a
    month's millions of rows are read once, not twice."""
    with engine.connect() as conn, conn.begin():
        conn.execute(text(f"LOCK TABLE ONLY {item.target} IN SHARE MODE"))
        held = _month_held(conn, item.month)
        table, where, params = _rows_of(item, as_of, held)
        digest = deletion_log.rows_digest(conn, table, where, params)
        with engine.begin() as proof:
            deletion_log.write(proof, deletion_id, STARTED, item, as_of, digest)
        removed = None if held and _held_rows(conn, table, item.month) else drop_month(conn, table, item.month)
        if removed is None:
            removed = conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params).rowcount
        deletion_log.write(conn, deletion_id, COMPLETED, Deletion(item.month, item.kind, item.target, int(removed)),
                           as_of, digest)


def _rows_of(item: Expired, as_of: str, held: bool = True) -> tuple[str, str, dict[str, object]]:
    """The table and condition of an item's rows; `held=False` (no court hold covers the month) leaves out the
    condition sparing held rows, so the server may read the month's partition in parallel."""
    if item.kind == "rows":
        spared = f" AND {_not_held(item.target)}" if held else ""
        return item.target, f"period = :month{spared}", {"month": item.month}
    if item.kind == "appeals":   # a decision's rows by its last covered month ('|'-joined, ascending)
        return "appeal_decisions", f"months LIKE :ending AND case_ref NOT IN ({ACTIVE_HOLDS_SQL})", {
            "ending": f"%{item.month}", "month": item.month}
    start = parse_month(item.month)
    return "access_log", "at >= :start AND at < :end AND at < :before", {
        "start": dt.datetime(start // 12, start % 12 + 1, 1),
        "end": dt.datetime((start + 1) // 12, (start + 1) % 12 + 1, 1),
        "before": _access_log_cutoff(as_of)}


def _not_held(table: str) -> str:
    """The condition sparing the rows a court hold keeps (§16): the held households' rows of the months their case
    covers (a name token by its person, whose `portal_persons` row the hold keeps)."""
    if table == "portal_name_tokens":
        return (f"person_key NOT IN (SELECT person_key FROM portal_persons WHERE period = :month AND aris_code IN "
                f"({HELD_CODES_SQL}))")
    return f"aris_code NOT IN ({HELD_CODES_SQL})"


def _appeal_months(conn: Connection, cutoff: str) -> dict[str, int]:
    """Appeal rows by their decision's last covered month, of months before `cutoff` and cases not on hold."""
    months: dict[str, int] = {}
    for (covered,) in conn.execute(text(f"SELECT months FROM appeal_decisions WHERE case_ref NOT IN "
                                        f"({ACTIVE_HOLDS_SQL})")):
        last = str(covered)[-7:]
        if last < cutoff:
            months[last] = months.get(last, 0) + 1
    return months


def _month_held(conn: Connection, month: str) -> bool:
    """Whether a court hold in force covers any household of `month` (§16)."""
    return bool(conn.execute(text(f"SELECT EXISTS ({HELD_CODES_SQL})"), {"month": month}).scalar_one())


def _held_rows(conn: Connection, table: str, month: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE period = :month AND NOT ({_not_held(table)})"),
                            {"month": month}).scalar_one())


def _finish_interrupted(engine: Engine, workdir: Path, as_of: str, copies: Copies) -> None:
    """Complete the proof of each interrupted deletion whose target holds nothing any more (the files went, the
    COMPLETED row did not); one whose target still holds data is deleted again by this run, with its own proof."""
    with engine.connect() as conn:
        pending = deletion_log.unfinished(conn)
    for deletion_id, item, digest in pending:
        if item.kind in COPY_KINDS and item.kind not in copies:
            continue  # its root is not given to this run: nothing to say about it
        if _still_there(engine, workdir, copies, item, as_of):
            continue
        with engine.begin() as conn:
            deletion_log.write(conn, deletion_id, COMPLETED, item, as_of, digest)
        log.info("retention: finished the proof of an interrupted deletion of %s %s of %s", item.kind, item.target,
                 item.month)


def _still_there(engine: Engine, workdir: Path, copies: Copies, item: Expired, as_of: str) -> bool:
    if item.kind == "files" or item.kind in COPY_KINDS:
        return _path(workdir, copies, item).exists()
    table, where, params = _rows_of(item, as_of)
    with engine.connect() as conn:
        return bool(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one())


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


def retention_command(url: str, workdir: Path, as_of: str | None, *, apply: bool, verify: bool,
                      copies: Copies | None = None) -> int:
    """The CLI: list (default), apply, or verify; prints one line per item. Exit 1 when --verify finds any."""
    as_of, copies = checked_as_of(as_of), _checked_copies(copies)
    if apply:
        items = apply_retention(url, workdir, as_of, copies)
        verb = "deleted"
    elif verify:
        items = verify_retention(url, workdir, as_of, copies)
        verb = "LEFT"
    else:
        items = find_expired(connect(url), workdir, as_of, copies)
        verb = "expired"
    for item in items:
        print(f"{verb}\t{item.month}\t{item.kind}\t{item.target}\t{item.items}")
    if verify:
        for held in list_holds(url):
            print(f"HELD\t{held.case_ref}\t{'|'.join(held.months)}\t{held.households} household(s)")
    print(f"retention as of {as_of} (keeping {horizon(as_of)} and later): {len(items)} item(s) {verb}")
    return 1 if verify and items else 0


def list_holds(url: str) -> list[Hold]:
    """The court holds in force (§16): `--verify` lists them; their rows are kept, not reported as left."""
    with connect(url).connect() as conn:
        return active_holds(conn)


def hold_command(url: str, case_ref: str, *, release: bool, username: str) -> int:
    """`eikis retention --hold CASE_REF` / `--release CASE_REF`: one line saying what is kept (or no longer)."""
    step = appeals.release if release else appeals.hold
    held = step(connect(url), case_ref, username)
    state = "released: its rows are deleted at the next run past" if release else "on hold: retention keeps"
    print(f"case {held.case_ref} {state} {held.households} household(s) of {', '.join(held.months)}")
    return 0


# Airflow task bodies (a config in, JSON out): `dags/eikis_retention.py` only wires these.

@dataclass(frozen=True)
class RetentionConfig(FlowConfig):
    """The month retention counts from (the `as_of` param, else the run date's month, UTC) and the store, the
    workdir and the copies' roots (the deployment's)."""

    PERIOD_KEY = "as_of"
    as_of: str
    db_url: str = deployed()
    workdir: str = deployed()
    inbox: str = deployed()
    claims: str = deployed()
    aldis_outbox: str = deployed()

    @staticmethod
    def period_of(logical_date: dt.datetime | None) -> str | None:
        when = logical_date or dt.datetime.now(dt.UTC)
        return f"{when.year:04d}-{when.month:02d}"


def _copies_of(config: RetentionConfig) -> dict[str, Path]:
    return {kind: Path(getattr(config, kind)) for kind in COPY_KINDS if getattr(config, kind)}


def apply_task(config: RetentionConfig) -> dict[str, object]:
    """A deployment's first run may come before any month was run: its workdir (where the default store lives)
    is then created owner-only, and there is nothing to delete yet."""
    make_private(Path(config.workdir))
    deleted = apply_retention(config.db_url, Path(config.workdir), config.as_of, _copies_of(config))
    return {"as_of": config.as_of, "deleted": [vars(item) for item in deleted]}


def verify_task(config: RetentionConfig) -> dict[str, object]:
    """Fails the task (so the run is red and alerts) when anything past retention is still there."""
    left = verify_retention(config.db_url, Path(config.workdir), config.as_of, _copies_of(config))
    if left:
        raise EikisError(f"retention left {len(left)} item(s) past 24 months, e.g. {left[0].kind} {left[0].target} "
                         f"of {left[0].month}")
    return {"as_of": config.as_of, "left": 0}
