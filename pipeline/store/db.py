"""The EIKIS store: runs, source files, household decisions, recipient files, deliveries and audit events.

PostgreSQL in production (bulk loads through COPY), an embedded SQLite file by default so `eikis run` needs no
server. Recording a period replaces that period's rows in one transaction: a re-run never duplicates a row and a
failure leaves the previous state untouched. The schema is versioned (`pipeline.store.migrate`, `eikis db upgrade`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, RootTransaction, text

from pipeline.config import WorkLayout, private_files
from pipeline.errors import StoreError
from pipeline.handoff import DecisionSummary, recipient_kind, recipient_of, source_summaries
from pipeline.logs import get_logger
from pipeline.store.migrate import require_head
from pipeline.store.partitions import MonthTables, open_month, table_of
from pipeline.store.portal_index import (
    PORTAL_PERIOD_TABLES,
    REVIEW_RECORD_COLUMNS,
    household_rows,
    in_key_order,
    new_household_ids,
    person_rows,
    review_record_rows,
)
from pipeline.store.url import make_engine

log = get_logger("store")

PERIOD_TABLES = ("runs", "source_files", "source_summaries", "household_decisions", "household_members",
                 "recipient_files", *PORTAL_PERIOD_TABLES)
COPY_CHUNK_ROWS = 200_000


def default_url(workdir: Path) -> str:
    """`EIKIS_DB_URL`, else an SQLite file beside the period folders of the workdir."""
    return os.environ.get("EIKIS_DB_URL") or f"sqlite:///{(Path(workdir) / 'eikis.sqlite').resolve()}"


def connect(url: str) -> Engine:
    """An engine on a store at the current schema version (`pipeline.store.migrate`: the schema is never applied
    here, except that a new embedded SQLite file is created at head). An SQLite store holds pseudonymous keys and
    incomes: its file (and the journal files SQLite creates beside it) are owner-only."""
    engine = make_engine(url)
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    with private_files():
        require_head(engine, url)
    if database and database != ":memory:" and Path(database).exists():
        Path(database).chmod(0o600)
    return engine


@contextmanager
def driver_errors(conn: Connection, table: str) -> Iterator[None]:
    """A load through the driver's own cursor fails as a StoreError naming the table and the error's class: the
    driver's message may quote a row ("Failing row contains …"), so it stays out of the one-line error."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as exc:
        raise StoreError(f"the store refused the rows of {table_of(table)} ({type(exc).__name__})") from exc


def bulk_load(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Load rows: COPY on PostgreSQL (streamed in chunks), executemany elsewhere (the embedded SQLite file)."""
    with driver_errors(conn, table):
        return _bulk_load(conn, table, columns, rows)


def _bulk_load(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
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


def copy_arrow(conn: Connection, table: str, arrow: pa.Table, columns: Sequence[str]) -> int:
    """Load a month's rows, read or built in Arrow, a chunk at a time, in the caller's transaction, never as
    pandas objects. PostgreSQL: `COPY … (FORMAT csv)` written by Arrow's C++ CSV writer (no Python object per
    value; a null is an unquoted empty field, an empty string a quoted one, as COPY reads them). SQLite: the
    driver's own `executemany` over the columns' values (no SQLAlchemy parameter dict per row)."""
    with driver_errors(conn, table):
        return _copy_arrow(conn, table, arrow.select(list(columns)), columns)


def with_period(arrow: pa.Table, period: str) -> pa.Table:
    """`arrow` with the month as its `period` column."""
    return arrow.append_column("period", pa.repeat(pa.scalar(period, pa.string()), arrow.num_rows))


def _copy_arrow(conn: Connection, table: str, arrow: pa.Table, columns: Sequence[str]) -> int:
    cursor = conn.connection.dbapi_connection.cursor()
    if conn.dialect.name == "sqlite":
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for batch in arrow.to_batches(max_chunksize=COPY_CHUNK_ROWS):
            cursor.executemany(insert, zip(*(column.to_pylist() for column in batch.columns), strict=True))
        return arrow.num_rows
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False)
    for batch in arrow.to_batches(max_chunksize=COPY_CHUNK_ROWS):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(batch, sink, options)
        cursor.copy_expert(statement, pa.BufferReader(sink.getvalue()))
    return arrow.num_rows


def cents_as_eur(cents: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whole cents as exact EUR text with two decimals (`123456` → `1234.56`, `-5` → `-0.05`) for a NUMERIC
    column: the store reads the digits, never a binary float."""
    values = np.asarray(cents, dtype=np.int64)
    magnitude = np.abs(values)
    amount = pc.binary_join_element_wise(pa.array(magnitude // 100).cast(pa.string()),
                                         pc.utf8_lpad(pa.array(magnitude % 100).cast(pa.string()), 2, "0"), ".")
    return pc.binary_join_element_wise(pa.array(np.where(values < 0, "-", "")), amount, "")


def record_period(url: str, period: str, workdir: Path, outbox: Path, run_id: str) -> dict[str, int]:
    """Replace period P's rows with what the run in `workdir` decided and published, in one transaction."""
    with pending_record(url, period, workdir, Path(outbox) / period / "manifest.json", run_id) as pending:
        pending.commit()
    return pending.loaded


@dataclass
class PendingRecord:
    """P's rows written in an open transaction: `commit` makes them the store's; otherwise they are rolled back."""

    period: str
    loaded: dict[str, int]
    transaction: RootTransaction

    def commit(self) -> None:
        self.transaction.commit()
        log.info("store: recorded %s (%s)", self.period, ", ".join(f"{k}={v}" for k, v in self.loaded.items()))


@contextmanager
def pending_record(url: str, period: str, workdir: Path, manifest_path: Path,
                   run_id: str) -> Iterator[PendingRecord]:
    """Replace P's rows inside a transaction the caller commits (`PendingRecord.commit`) once the files it
    records are published, so a store failing mid-way publishes nothing and a failed publication records nothing
    (`pipeline.flows.monthly.publish`). Rolled back when the block ends without a commit."""
    layout = WorkLayout(Path(workdir), period)
    decision = DecisionSummary.load(layout)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    households = pq.read_table(layout.decided("households"))
    members = pq.read_table(layout.decided("members"), columns=["aris_code", "person_key", "total_cents"])
    files = pd.DataFrame(manifest["files"])
    recipients = files["path"].map(recipient_of)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    summaries = list(source_summaries(layout).values())
    review_records = review_record_rows(layout, households, members)

    engine = connect(url)
    loaded: dict[str, int] = {}
    with engine.connect() as conn, ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows") as builder:
        # The members' and the portal's rows are built (in Arrow and DuckDB, which release the GIL) while the server
        # loads the decisions and members: the recording process and the server each have a core to work on.
        member_rows = builder.submit(members_in_key_order, members, period)
        household_index = builder.submit(household_index_rows, layout, households, period)
        person_index = builder.submit(person_index_rows, layout, period)
        transaction = conn.begin()
        month = open_month(conn, period)
        for table in PERIOD_TABLES:
            if month.target(table) == table:  # a new month's own tables are empty
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
        loaded["household_decisions"] = copy_arrow(conn, month.target("household_decisions"), with_period(
            households, period), ("period", "aris_code", "address", "municipality_code", "members",
                                  "quarantined_members", "total_income_eur", "avg_income_eur", "threshold_eur",
                                  "policy_version", "status", "reason"))
        loaded["household_members"] = copy_arrow(conn, month.target("household_members"), member_rows.result(),
                                                 ("period", "aris_code", "person_key", "total_eur"))
        loaded["recipient_files"] = bulk_load(conn, "recipient_files", (
            "period", "path", "recipient_kind", "recipient_id", "rows", "sha256"),
            [(period, row.path, recipient_kind(recipient), recipient, row.rows, row.sha256)
             for row, recipient in zip(files.itertuples(index=False), recipients, strict=True)])
        loaded.update(_record_portal_rows(conn, month, households["aris_code"], household_index, person_index,
                                          review_records))
        month.attach(conn)
        audit(conn, period, run_id, "RECORDED", json.dumps(loaded, sort_keys=True))
        try:
            yield PendingRecord(period, loaded, transaction)
        finally:
            if transaction.is_active:
                transaction.rollback()
            engine.dispose()


def members_in_key_order(members: pa.Table, period: str) -> pa.Table:
    """P's `household_members` rows, their income as exact EUR, in the order of the table's primary key."""
    rows = with_period(members.append_column("total_eur", cents_as_eur(members["total_cents"])), period)
    return in_key_order(rows, ["person_key", "aris_code"])


def household_index_rows(layout: WorkLayout, households: pa.Table, period: str) -> pa.Table:
    """P's rows of `portal_households` (`pipeline.store.portal_index`)."""
    return with_period(household_rows(layout, households), period)


def person_index_rows(layout: WorkLayout, period: str) -> tuple[pa.Table, pa.Table]:
    """P's rows of `portal_persons` and `portal_name_tokens` (`pipeline.store.portal_index`)."""
    persons, name_tokens = person_rows(layout)
    return with_period(persons, period), with_period(name_tokens, period)


def _record_portal_rows(conn: Connection, month: MonthTables, aris_codes: pa.ChunkedArray,
                        household_index: Future[pa.Table], person_index: Future[tuple[pa.Table, pa.Table]],
                        review_records: pd.DataFrame) -> dict[str, int]:
    """The staff portal's search index and household figures for P (see `pipeline.store.portal_index`), in the
    order their rows are ready: the ids of new addresses first (they need only the month's ARIS codes), then the
    households, then the persons and their names, the longest to build."""
    known = {row[0] for row in conn.execute(text("SELECT aris_code FROM portal_household_ids"))}
    loaded = {"portal_household_ids": copy_arrow(conn, "portal_household_ids", new_household_ids(known, aris_codes),
                                                 ("aris_code", "household_id"))}
    loaded["portal_households"] = copy_arrow(conn, month.target("portal_households"), household_index.result(),
                                             ("period", "aris_code", "address_search", "income_months"))
    persons, name_tokens = person_index.result()
    loaded["portal_persons"] = copy_arrow(conn, month.target("portal_persons"), persons,
                                          ("period", "person_key", "aris_code", "name_sealed"))
    loaded["portal_name_tokens"] = copy_arrow(conn, month.target("portal_name_tokens"), name_tokens,
                                              ("period", "token_key", "person_key"))
    loaded["portal_review_records"] = copy_arrow(conn, month.target("portal_review_records"), with_period(
        pa.Table.from_pandas(review_records, preserve_index=False), month.period), ("period", *REVIEW_RECORD_COLUMNS))
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
