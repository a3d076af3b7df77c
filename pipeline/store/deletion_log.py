"""The deletion log: retention's proof (CONTRACTS §15), written ahead and append-only.

Each deletion is two rows with one `deletion_id`: STARTED, committed before anything is deleted (what is about to
go: month, kind, target, how many, sha256), and COMPLETED after it went (for store rows, in the deleting
transaction). A STARTED row with no COMPLETED row for its target after it is an unfinished deletion: the process
was killed or the store failed in between. The store refuses UPDATE and DELETE on the log (`sql/007`), and the
application role may only INSERT and SELECT it (`pipeline.store.roles`). No personal data: targets are table names
and folder paths relative to a configured root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, text

STARTED, COMPLETED = "STARTED", "COMPLETED"


@dataclass(frozen=True)
class Deletion:
    """One thing retention deletes: a folder of a month, a table's rows of a month, or a month of access-log rows."""

    month: str
    kind: str       # "files" (a workdir folder) | "inbox" | "claims" | "aldis_outbox" | "rows" | "access_log"
    target: str     # a path relative to its root (e.g. "2024-09/staging"), or a table name
    items: int      # files or rows


def write(conn: Connection, deletion_id: str, state: str, item: Deletion, as_of: str, sha256: str) -> None:
    conn.execute(text("INSERT INTO deletion_log (at, as_of, month, kind, target, items, sha256, deletion_id, state) "
                      "VALUES (:at, :as_of, :month, :kind, :target, :items, :sha, :id, :state)"),
                 {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "as_of": as_of, "month": item.month,
                  "kind": item.kind, "target": item.target, "items": item.items, "sha": sha256, "id": deletion_id,
                  "state": state})


def unfinished(conn: Connection) -> list[tuple[str, Deletion, str]]:
    """(deletion_id, what, sha256) of each STARTED deletion with no COMPLETED row for it or its target after it."""
    rows = conn.execute(text(
        "SELECT s.deletion_id, s.month, s.kind, s.target, s.items, s.sha256 FROM deletion_log s "
        "WHERE s.state = :started AND NOT EXISTS (SELECT 1 FROM deletion_log c WHERE c.state = :completed "
        "AND (c.deletion_id = s.deletion_id OR (c.month = s.month AND c.kind = s.kind AND c.target = s.target "
        "AND c.at >= s.at))) ORDER BY s.at, s.deletion_id"), {"started": STARTED, "completed": COMPLETED})
    return [(row[0], Deletion(row[1], row[2], row[3], int(row[4])), row[5]) for row in rows]


def rows_digest(conn: Connection, table: str, where: str, params: dict[str, object]) -> str:
    """The proof's sha256 of a table's rows: of their text lines sorted bytewise, each ending in a line feed, so it
    depends on which rows go and what they hold, never on the order they are stored in.

    On PostgreSQL a line is the row as `COPY … TO STDOUT` writes it, so anyone holding a backup of the month can
    check a proof with standard tools: `psql -c "COPY (SELECT * FROM <table> WHERE period = '<M>') TO STDOUT" |
    LC_ALL=C sort | sha256sum`. The server sends the rows at COPY speed and they are sorted here: hashing each row in
    the server and sorting the hashes there took several times as long. On SQLite a line is the row's Python
    `repr`."""
    query = text(f"SELECT * FROM {table} WHERE {where}")
    if conn.dialect.name == "postgresql":
        cursor, compiled = conn.connection.dbapi_connection.cursor(), query.compile(dialect=conn.dialect)
        literal = cursor.mogrify(str(compiled), {name: params[name] for name in compiled.params}).decode()
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({literal}) TO STDOUT", buffer)   # COPY takes no parameters: quoted by the driver
        lines = buffer.getvalue().split(b"\n")[:-1]   # COPY ends every row with a line feed and escapes any inside
        del buffer
    else:
        lines = [repr(tuple(row)).encode("utf-8") for row in conn.execute(query, params)]
    if not lines:
        return hashlib.sha256(b"").hexdigest()
    ordered = np.sort(np.array(lines))   # bytewise, as `LC_ALL=C sort`: no line holds a NUL byte for numpy to pad
    del lines
    return hashlib.sha256(b"\n".join(ordered.tolist()) + b"\n").hexdigest()
