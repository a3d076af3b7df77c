"""Ingest's mark of the VID documents with more than one version (CONTRACTS §4 corrections): it lists exactly the
repeated id hashes across all parts, and a mark that does not describe the parts it lies beside is never used."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.sources.vidversions import MARK, mark_repeated_documents, repeated_documents


def _part(path: Path, hashes: list[int]) -> Path:
    pq.write_table(pa.table({"doc_hash": pa.array(hashes, type=pa.int64())}), path)
    return path


def test_the_mark_lists_every_hash_repeated_within_or_across_parts(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [5, 1, 5, 9]), _part(tmp_path / "part-0001.parquet", [9, 2, 7])]
    mark_repeated_documents(parts)
    assert (tmp_path / MARK).is_file()
    assert repeated_documents(parts).column("doc_hash").to_pylist() == [5, 9]
    assert sorted(path.name for path in tmp_path.glob("*.parquet")) == ["part-0000.parquet", "part-0001.parquet"]


def test_a_mark_that_does_not_match_the_parts_is_recomputed_not_trusted(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [1, 2]), _part(tmp_path / "part-0001.parquet", [3])]
    mark_repeated_documents(parts)
    assert repeated_documents(parts).num_rows == 0
    _part(tmp_path / "part-0001.parquet", [3, 2])          # a part rewritten after the mark
    assert repeated_documents(parts).column("doc_hash").to_pylist() == [2]
    added = [*parts, _part(tmp_path / "part-0002.parquet", [1])]   # a part the mark never saw
    assert repeated_documents(added).column("doc_hash").to_pylist() == [1, 2]


def test_without_a_mark_the_repeats_are_computed_from_the_parts(tmp_path):
    parts = [_part(tmp_path / "part-0000.parquet", [4, 4, 8])]
    assert repeated_documents(parts).column("doc_hash").to_pylist() == [4]
