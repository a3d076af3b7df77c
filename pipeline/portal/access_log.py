"""The access log (CONTRACTS §14): every search, what it showed, every household view and every sign-in, for auditors.

Rows hold who, when, the action, the kind of search, how many results, and the opaque household id and month:
never the query text, a personal code or a name. Actions:
- `search` (kind, result count) and, with the same time, one `shown` row per household the results page
  displayed: a search that only *showed* a household is auditable too (issue 27.5);
- `view`: a household page opened;
- `sign-in`, `sign-in-failed`, `sign-in-refused` (locked out), `sign-out`. A failure with a user name that does
  not exist is kept as `(unknown name)`: what was typed may be someone's personal code or name.
The store refuses UPDATE and DELETE of rows younger than the retention horizon (triggers in `sql/003_portal.sql`).
Auditors read it on `/audit` or export it as CSV, both in Europe/Riga time (the date filter too) with each
household's latest address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from pipeline.csvio import render_csv
from pipeline.portal.i18n import riga_day_start, riga_time
from pipeline.portal.users import now

COLUMNS = ("at", "username", "action", "kind", "result_count", "household_id", "period")
CSV_COLUMNS = ("at_riga", "username", "action", "kind", "result_count", "household_id", "address", "period")
SIGN_IN_ACTIONS = ("sign-in", "sign-in-failed", "sign-in-refused", "sign-out")
ACTIONS = ("search", "shown", "view", *SIGN_IN_ACTIONS)
UNKNOWN_NAME = "(unknown name)"
PAGE_ROWS = 1000      # rows the page shows (newest first); the CSV export has them all


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    since: dt.date | None = None      # Europe/Riga days
    until: dt.date | None = None      # inclusive
    kind: str = ""


def append(engine: Engine, username: str, action: str, *, kind: str | None = None, result_count: int | None = None,
           household_id: str | None = None, period: str | None = None) -> None:
    with engine.begin() as conn:
        _insert(conn, [{"at": now(), "u": username, "a": action, "k": kind, "n": result_count, "h": household_id,
                        "p": period}])


def append_search(engine: Engine, username: str, kind: str, result_count: int,
                  shown: list[tuple[str, str]]) -> None:
    """A search and the (household id, month) pairs its results page displayed, in one transaction, one time."""
    at = now()
    rows = [{"at": at, "u": username, "a": "search", "k": kind, "n": result_count, "h": None, "p": None}]
    rows += [{"at": at, "u": username, "a": "shown", "k": kind, "n": None, "h": household_id, "p": period}
             for household_id, period in shown]
    with engine.begin() as conn:
        _insert(conn, rows)


def _insert(conn: Connection, rows: list[dict[str, object]]) -> None:
    conn.execute(text("INSERT INTO access_log (at, username, action, kind, result_count, household_id, period) "
                      "VALUES (:at, :u, :a, :k, :n, :h, :p)"), rows)


def read(engine: Engine, wanted: AuditFilter, limit: int | None = PAGE_ROWS) -> list[tuple]:
    clauses, params = ["1 = 1"], {}
    if wanted.username:
        clauses.append("username = :u")
        params["u"] = wanted.username[:64]
    if wanted.since:          # days in Europe/Riga, like the times the page and the export show
        clauses.append("at >= :since")
        params["since"] = riga_day_start(wanted.since)
    if wanted.until:
        clauses.append("at < :until")
        params["until"] = riga_day_start(wanted.until + dt.timedelta(days=1))
    if wanted.kind:
        clauses.append("(kind = :k OR action = :k)")
        params["k"] = wanted.kind[:16]
    sql = f"SELECT {', '.join(COLUMNS)} FROM access_log WHERE {' AND '.join(clauses)} ORDER BY at DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def as_csv(rows: list[tuple], addresses: Mapping[str, str]) -> bytes:
    """The auditor's export of `read` rows as the page shows them: the time in Europe/Riga (the page's formatter)
    and each household's latest address beside its opaque id (`Lookup.addresses`). Written by `render_csv`, which
    neutralises any cell a spreadsheet would run as a formula (an address is text from the register)."""
    return render_csv(CSV_COLUMNS, (_csv_row(row, addresses) for row in rows))


def _csv_row(row: tuple, addresses: Mapping[str, str]) -> tuple[object, ...]:
    at, username, action, kind, count, household_id, period = row
    return (riga_time(at), username, action, kind or "", "" if count is None else count, household_id or "",
            addresses.get(household_id or "", ""), period or "")
