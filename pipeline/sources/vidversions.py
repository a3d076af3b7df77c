"""Which staged VID documents may have more than one version (CONTRACTS §4 corrections), marked once at ingest.

§4: "The same `DocumentId` more than once = a correction: the one with the latest `SubmittedAt` wins." Only a
document whose id occurs more than once across all of P's staged parts can have versions, and few do (well under
1 % of the national month's 24.5 M records). Ingest, which has just written the parts, copies every record whose
staged id hash (`doc_hash`) repeats into a small file beside them (`_repeated_documents.arrow`, renamed into place
with the parts), so every decision of P (the monthly run, each simulation) chooses among those versions without
grouping every record again or reading any record's `DocumentId` text; every other record is its document's only
version. The decision still chooses by the real `DocumentId` (`decide.income.LATEST_VERSIONS`), so a hash
collision only adds a candidate.

The mark names the parts it was made from, with their row counts and sizes; when it is missing (a month staged before it
existed) or does not match the parts, the same records are taken from the parts instead, so the decision is the
same either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import engine

MARK = "_repeated_documents.arrow"  # '_': not a part for pyarrow's dataset reading; not '*.parquet': not a part
PARTS_KEY = b"parts"
COLUMNS = ["document_id", "person_no", "period_start", "period_end", "amount_cents", "submitted_at", "file", "record",
           "doc_hash"]                 # what choosing the latest version and counting it read


REPEATED_RECORDS = f"""
-- §4: "The same DocumentId more than once = a correction": every staged record whose id hash occurs more than once
-- across all of P's parts, i.e. each version of each document that may have been corrected.
SELECT {", ".join(COLUMNS)} FROM read_parquet($parts)
WHERE doc_hash IN (SELECT doc_hash FROM read_parquet($parts) GROUP BY doc_hash HAVING count(*) > 1)
"""


def repeated_records(parts: list[Path]) -> pa.Table:
    """`REPEATED_RECORDS` over the parts, run by DuckDB."""
    with engine.connect() as db:
        return db.sql(REPEATED_RECORDS, params={"parts": [str(part) for part in parts]}).to_arrow_table()


def mark_repeated_documents(parts: list[Path]) -> Path:
    """Write the mark (`repeated_records`) beside the parts (all in one folder) and return its path."""
    folder = parts[0].parent if parts else None
    if folder is None or any(part.parent != folder for part in parts):
        raise ValueError("the VID parts to mark must all lie in one folder")
    table = repeated_records(parts)
    table = table.replace_schema_metadata({PARTS_KEY: json.dumps(_row_counts(parts)).encode()})
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.OSFile(str(folder / MARK), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return folder / MARK


def repeated_documents(parts: list[Path]) -> pa.Table:
    """Every version of the documents whose `doc_hash` repeats in these parts (`repeated_records`): the mark ingest
    left beside them when it was made from exactly these parts, each with the rows and bytes it has now; else
    taken from the parts."""
    mark = parts[0].parent / MARK if parts else None
    if mark is not None and mark.is_file():
        with pa.memory_map(str(mark)) as source:
            table = pa.ipc.open_file(source).read_all()
        made_from = json.loads((table.schema.metadata or {}).get(PARTS_KEY, b"null"))
        if made_from == _row_counts(parts):
            return table.replace_schema_metadata(None)
    return repeated_records(parts)


def _row_counts(parts: list[Path]) -> dict[str, list[int]]:
    """Each part's file name, its row count (from its footer) and its size in bytes."""
    return {part.name: [pq.ParquetFile(part).metadata.num_rows, part.stat().st_size] for part in parts}
