"""Which staged VID documents may have more than one version (CONTRACTS §4 corrections), marked once at ingest.

§4: "The same `DocumentId` more than once = a correction: the one with the latest `SubmittedAt` wins." Only a
document whose id occurs more than once across all of P's staged parts can have versions, and few do (well under
1 % of the national month's 24.5 M records). Ingest, which has just written the parts, lists the staged id hashes
(`doc_hash`) that repeat in a small file beside them (`_repeated_documents.arrow`, renamed into place with the
parts), so every decision of P (the monthly run, each simulation) looks only at those documents instead of
grouping every record again. The decision still chooses among the versions by the real `DocumentId`
(`decide.income.LATEST_VERSIONS`), so a hash collision only adds a candidate.

The mark names the parts it was made from, with their row counts and sizes; when it is missing (a month staged before it
existed) or does not match the parts, the same list is computed from the parts instead, so the decision is the
same either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.arrays import repeated_values

MARK = "_repeated_documents.arrow"  # '_': not a part for pyarrow's dataset reading; not '*.parquet': not a part
PARTS_KEY = b"parts"


def repeated_hashes(parts: list[Path]) -> np.ndarray:
    """The `doc_hash` values occurring more than once across the parts, sorted and unique."""
    hashes = [pq.ParquetFile(part).read(columns=["doc_hash"]).column("doc_hash").to_numpy() for part in parts]
    return repeated_values(np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64))


def mark_repeated_documents(parts: list[Path]) -> Path:
    """Write the mark beside the parts (all in one folder) and return its path."""
    folder = parts[0].parent if parts else None
    if folder is None or any(part.parent != folder for part in parts):
        raise ValueError("the VID parts to mark must all lie in one folder")
    table = pa.table({"doc_hash": pa.array(repeated_hashes(parts), type=pa.int64())})
    table = table.replace_schema_metadata({PARTS_KEY: json.dumps(_row_counts(parts)).encode()})
    with pa.OSFile(str(folder / MARK), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return folder / MARK


def repeated_documents(parts: list[Path]) -> pa.Table:
    """The repeated `doc_hash` values of these parts (one column `doc_hash`): the mark ingest left beside them when
    it was made from exactly these parts, each with the rows and bytes it has now; else computed from the parts."""
    mark = parts[0].parent / MARK if parts else None
    if mark is not None and mark.is_file():
        with pa.memory_map(str(mark)) as source:
            table = pa.ipc.open_file(source).read_all()
        made_from = json.loads((table.schema.metadata or {}).get(PARTS_KEY, b"null"))
        if made_from == _row_counts(parts):
            return table.replace_schema_metadata(None)
    return pa.table({"doc_hash": pa.array(repeated_hashes(parts), type=pa.int64())})


def _row_counts(parts: list[Path]) -> dict[str, list[int]]:
    """Each part's file name, its row count (from its footer) and its size in bytes."""
    return {part.name: [pq.ParquetFile(part).metadata.num_rows, part.stat().st_size] for part in parts}
