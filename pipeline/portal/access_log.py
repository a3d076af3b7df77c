"""The access log (CONTRACTS §14): every search and household view, append-only, for auditors.

Rows hold who, when, the action (`search` or `view`), the kind of search, how many results, and the opaque
household id and month viewed: never the query text, a personal code or a name. The store refuses UPDATE and
DELETE of rows younger than the retention horizon (triggers in `sql/003_portal_triggers.*.sql`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, text

from pipeline.csvio import render_csv
from pipeline.portal.users import now

COLUMNS = ("at", "username", "action", "kind", "result_count", "household_id", "period")


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    since: dt.date | None = None
    until: dt.date | None = None      # inclusive
    kind: str = ""


def append(engine: Engine, username: str, action: str, *, kind: str | None = None, result_count: int | None = None,
           household_id: str | None = None, period: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO access_log (at, username, action, kind, result_count, household_id, period) "
                          "VALUES (:at, :u, :a, :k, :n, :h, :p)"),
                     {"at": now(), "u": username, "a": action, "k": kind, "n": result_count, "h": household_id,
                      "p": period})


def read(engine: Engine, wanted: AuditFilter, limit: int | None = 1000) -> list[tuple]:
    clauses, params = ["1 = 1"], {}
    if wanted.username:
        clauses.append("username = :u")
        params["u"] = wanted.username[:64]
    if wanted.since:
        clauses.append("at >= :since")
        params["since"] = dt.datetime.combine(wanted.since, dt.time())
    if wanted.until:
        clauses.append("at < :until")
        params["until"] = dt.datetime.combine(wanted.until + dt.timedelta(days=1), dt.time())
    if wanted.kind:
        clauses.append("(kind = :k OR action = :k)")
        params["k"] = wanted.kind[:16]
    sql = f"SELECT {', '.join(COLUMNS)} FROM access_log WHERE {' AND '.join(clauses)} ORDER BY at DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def as_csv(rows: list[tuple]) -> bytes:
    return render_csv(COLUMNS, ([_cell(value) for value in row] for row in rows))


def _cell(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return "" if value is None else value
