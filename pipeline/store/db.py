"""The EIKIS store: runs, source files, household decisions, recipient files, deliveries and audit events.

PostgreSQL in production (bulk loads through COPY), an embedded SQLite file by default so `eikis run` needs no
server. Recording a period replaces that period's rows in one transaction: a re-run never duplicates a row and a
failure leaves the previous state untouched. DDL lives in `sql/` and is applied in file-name order.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, make_url, text

from pipeline.config import WorkLayout, private_files, with_store_password
from pipeline.handoff import DecisionSummary, recipient_kind, recipient_of, source_summaries
from pipeline.logs import get_logger
from pipeline.store.ddl import for_dialect, split_statements
from pipeline.store.portal_index import PORTAL_PERIOD_TABLES, household_rows, new_household_ids, person_rows

log = get_logger("store")

PERIOD_TABLES = ("runs", "source_files", "source_summaries", "household_decisions", "household_members",
                 "recipient_files", *PORTAL_PERIOD_TABLES)
COPY_CHUNK_ROWS = 200_000
CONNECT_TIMEOUT_S = 10  # a store that does not answer fails the run in seconds instead of hanging it


def sql_dir() -> Path:
    configured = os.environ.get("EIKIS_SQL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "sql"


def default_url(workdir: Path) -> str:
    """`EIKIS_DB_URL`, else an SQLite file beside the period folders of the workdir."""
    return os.environ.get("EIKIS_DB_URL") or f"sqlite:///{(Path(workdir) / 'eikis.sqlite').resolve()}"


def connect(url: str) -> Engine:
    """An engine with the schema applied. An SQLite store holds pseudonymous keys and incomes: its file (and the
    journal files SQLite creates beside it) are owner-only."""
    parsed = with_store_password(make_url(url))  # the password joins here only, never a URL that travels
    timeout = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    engine = create_engine(parsed, future=True, connect_args=timeout)
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    with private_files():
        ensure_schema(engine)
    if database and database != ":memory:" and Path(database).exists():
        Path(database).chmod(0o600)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Apply every `sql/*.sql` file (idempotent DDL), the sections for this database's dialect (`store/ddl.py`)."""
    with engine.begin() as conn:
        # The DB-API cursor directly, without parameters: no driver reads `%` or `:name` in a function body.
        cursor = conn.connection.cursor()
        for path in sorted(sql_dir().glob("*.sql")):
            script = for_dialect(path.read_text(encoding="utf-8"), engine.dialect.name)
            for statement in split_statements(script):
                cursor.execute(statement)


def bulk_load(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Load rows: COPY on PostgreSQL (streamed in chunks), executemany elsewhere (the embedded SQLite file)."""
    count = 0
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow(["\\N" if value is None else value for value in row])
            count += 1
            if count % COPY_CHUNK_ROWS == 0:
                buffer.seek(0)
                cursor.copy_expert(statement, buffer)
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
        return count
    insert = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        count += 1
        if len(batch) >= COPY_CHUNK_ROWS:
            conn.execute(insert, batch)
            batch.clear()
    if batch:
        conn.execute(insert, batch)
    return count


def _frame_rows(frame: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple[object, ...]]:
    clean = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), None)
    return clean.itertuples(index=False, name=None)


def record_period(url: str, period: str, workdir: Path, outbox: Path, run_id: str) -> dict[str, int]:
    """Replace period P's rows with what the run in `workdir` decided and published, in one transaction."""
    layout = WorkLayout(Path(workdir), period)
    decision = DecisionSummary.load(layout)
    manifest = json.loads((Path(outbox) / period / "manifest.json").read_text(encoding="utf-8"))
    households = pd.read_parquet(layout.decided("households"))
    members = pd.read_parquet(layout.decided("members"), columns=["aris_code", "person_key", "total_eur"])
    files = pd.DataFrame(manifest["files"])
    recipients = files["path"].map(recipient_of)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    summaries = list(source_summaries(layout).values())
    persons, name_tokens = person_rows(layout)
    portal_households = household_rows(layout, households).assign(period=period)

    engine = connect(url)
    loaded: dict[str, int] = {}
    with engine.begin() as conn:
        for table in PERIOD_TABLES:
            conn.execute(text(f"DELETE FROM {table} WHERE period = :period"), {"period": period})
        loaded["runs"] = bulk_load(conn, "runs", (
            "period", "run_id", "status", "policy_version", "policy_digest", "support_types", "persons",
            "households", "eligible", "review", "recorded_at"), [(
                period, run_id, "PUBLISHED", decision.policy_version, decision.policy_digest,
                "|".join(decision.support_types_on), decision.persons_counting, decision.households,
                decision.eligible, decision.review, now)])
        quarantined = _quarantined_per_file(layout)
        loaded["source_files"] = bulk_load(conn, "source_files", (
            "period", "source", "file", "sha256", "bytes", "records", "quarantined"),
            [(period, s.source, f["file"], f["sha256"], f["bytes"], f["records"],
              quarantined.get((s.source, str(f["file"])), 0)) for s in summaries for f in s.files])
        loaded["source_summaries"] = bulk_load(conn, "source_summaries", (
            "period", "source", "records", "staged", "quarantined", "reasons"),
            [(period, s.source, s.records, s.staged, s.quarantined_total, json.dumps(s.quarantined, sort_keys=True))
             for s in summaries])
        households = households.assign(period=period)
        loaded["household_decisions"] = bulk_load(conn, "household_decisions", (
            "period", "aris_code", "address", "municipality_code", "members", "quarantined_members",
            "total_income_eur", "avg_income_eur", "threshold_eur", "policy_version", "status", "reason"),
            _frame_rows(households, ("period", "aris_code", "address", "municipality_code", "members",
                                     "quarantined_members", "total_income_eur", "avg_income_eur", "threshold_eur",
                                     "policy_version", "status", "reason")))
        loaded["household_members"] = bulk_load(conn, "household_members", (
            "period", "aris_code", "person_key", "total_eur"),
            _frame_rows(members.assign(period=period), ("period", "aris_code", "person_key", "total_eur")))
        loaded["recipient_files"] = bulk_load(conn, "recipient_files", (
            "period", "path", "recipient_kind", "recipient_id", "rows", "sha256"),
            [(period, row.path, recipient_kind(recipient), recipient, row.rows, row.sha256)
             for row, recipient in zip(files.itertuples(index=False), recipients, strict=True)])
        loaded.update(_record_portal_rows(conn, period, persons, name_tokens, portal_households))
        audit(conn, period, run_id, "RECORDED", json.dumps(loaded, sort_keys=True))
    log.info("store: recorded %s (%s)", period, ", ".join(f"{k}={v}" for k, v in loaded.items()))
    return loaded


def _record_portal_rows(conn: Connection, period: str, persons: pd.DataFrame, name_tokens: pd.DataFrame,
                        households: pd.DataFrame) -> dict[str, int]:
    """The staff portal's search index and household figures for P (see `pipeline.store.portal_index`)."""
    known = {row[0] for row in conn.execute(text("SELECT aris_code FROM portal_household_ids"))}
    loaded = {"portal_household_ids": bulk_load(conn, "portal_household_ids", ("aris_code", "household_id"),
                                                new_household_ids(known, households["aris_code"]))}
    loaded["portal_persons"] = bulk_load(conn, "portal_persons", ("period", "person_key", "aris_code", "name_sealed"),
                                         _frame_rows(persons.assign(period=period),
                                                     ("period", "person_key", "aris_code", "name_sealed")))
    loaded["portal_name_tokens"] = bulk_load(conn, "portal_name_tokens", ("period", "token_key", "person_key"),
                                             _frame_rows(name_tokens.assign(period=period),
                                                         ("period", "token_key", "person_key")))
    columns = ("period", "aris_code", "address_search", "income_months")
    loaded["portal_households"] = bulk_load(conn, "portal_households", columns, _frame_rows(households, columns))
    return loaded


def _quarantined_per_file(layout: WorkLayout) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for path in sorted(layout.quarantine.glob("*.parquet")):
        table = pd.read_parquet(path, columns=["file"])
        for file, count in table["file"].value_counts().items():
            counts[(path.stem, str(file))] = int(count)
    return counts


def audit(conn: Connection, period: str, run_id: str, event: str, detail: str) -> None:
    """Append an audit event (never personal data: counts, ids, paths)."""
    conn.execute(text("INSERT INTO audit_events (period, at, run_id, event, detail) "
                      "VALUES (:period, :at, :run_id, :event, :detail)"),
                 {"period": period, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "run_id": run_id,
                  "event": event, "detail": detail})


def record_deliveries(url: str, period: str, run_id: str, rows: list[dict[str, object]]) -> None:
    """Replace the delivery rows of the recipients in `rows` for P."""
    engine = connect(url)
    columns = ("period", "recipient", "path", "remote_path", "sha256", "bytes", "attempts", "status", "started_at",
               "finished_at")
    with engine.begin() as conn:
        for recipient in sorted({str(row["recipient"]) for row in rows}):
            conn.execute(text("DELETE FROM deliveries WHERE period = :period AND recipient = :recipient"),
                         {"period": period, "recipient": recipient})
        bulk_load(conn, "deliveries", columns, [tuple(row[c] for c in columns) for row in rows])
        audit(conn, period, run_id, "DELIVERED", json.dumps({"files": len(rows)}))
