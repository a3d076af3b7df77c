"""Ingest's mark of the VID documents with more than one version (CONTRACTS §4 corrections): it holds exactly the
records whose id hash repeats across all parts, and a mark that does not describe the parts beside it is never
used."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.sources.vid import SCHEMA
from pipeline.sources.vidversions import MARK, mark_repeated_documents, repeated_documents


def _part(path: Path, hashes: list[int]) -> Path:
    """A staged part whose records carry these id hashes (the id is the hash written out, the amount its place)."""
    count = len(hashes)
    pq.write_table(pa.table({
        "document_id": [f"D{h}" for h in hashes], "person_no": pa.array([1] * count, pa.int64()),
        "document_type": ["OTHER"] * count, "period_start": pa.array([1] * count, pa.int32()),
        "period_end": pa.array([1] * count, pa.int32()), "amount_cents": pa.array(range(count), pa.int64()),
        "submitted_at": pa.array([datetime(2026, 1, 1)] * count, pa.timestamp("s")), "file": [path.name] * count,
        "record": pa.array(range(count), pa.int64()), "doc_hash": pa.array(hashes, pa.int64())}, schema=SCHEMA), path)
    return path


def _hashes(table: pa.Table) -> list[int]:
    return sorted(table.column("doc_hash").to_pylist())


def test_the_mark_holds_every_version_of_a_hash_repeated_within_or_across_parts(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [5, 1, 5, 9]), _part(tmp_path / "part-0001.parquet", [9, 2, 7])]
    mark_repeated_documents(parts)
    assert (tmp_path / MARK).is_file()
    versions = repeated_documents(parts)
    assert _hashes(versions) == [5, 5, 9, 9]
    assert sorted(zip(versions["file"].to_pylist(), versions["record"].to_pylist(), strict=True)) == [
        ("part-0000.parquet", 0), ("part-0000.parquet", 2), ("part-0000.parquet", 3), ("part-0001.parquet", 0)]
    assert sorted(path.name for path in tmp_path.glob("*.parquet")) == ["part-0000.parquet", "part-0001.parquet"]
    assert pq.read_table(tmp_path).num_rows == 7        # pyarrow's reading of the folder skips the mark


def test_a_mark_that_does_not_match_the_parts_is_recomputed_not_trusted(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [1, 2]), _part(tmp_path / "part-0001.parquet", [3])]
    mark_repeated_documents(parts)
    assert repeated_documents(parts).num_rows == 0
    _part(tmp_path / "part-0001.parquet", [3, 2])          # a part rewritten after the mark
    assert _hashes(repeated_documents(parts)) == [2, 2]
    added = [*parts, _part(tmp_path / "part-0002.parquet", [1])]   # a part the mark never saw
    assert _hashes(repeated_documents(added)) == [1, 1, 2, 2]


def test_without_a_mark_the_versions_are_taken_from_the_parts(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [4, 4, 8])]
    assert _hashes(repeated_documents(parts)) == [4, 4]
