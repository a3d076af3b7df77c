"""Splitting one large extract into chunks parsed in parallel must not change a single record, number or line."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.errors import SourceError
from pipeline.sources import base, vid, xmlcanon, xmlcolumns
from pipeline.sources.base import StageContext
from pipeline.sources.xmlstream import Chunk, plan_chunks
from tests.unit.test_xml_hardening import RECORD, extract


def big_extract(path: Path, records: int, comment_at: int | None = None, bad_at: int | None = None) -> Path:
    body = []
    for n in range(records):
        if n == comment_at:
            body.append("<!-- a stray <Income> inside a comment -->\n")
        record = RECORD.format(n=n, amount=f"{n % 500}.25")
        body.append(record.replace("<DocumentType>", "<Oops/><DocumentType>") if n == bad_at else record)
    path.write_bytes(extract("".join(body), prolog='<?xml version="1.0" encoding="UTF-8"?>\n'))
    return path


def records(path: Path, chunk: Chunk | None = None) -> list[tuple[int, int, str]]:
    """(number, line, DocumentId) of every record, as the reader hands them out."""
    return [(batch.first + offset, int(line), document)
            for batch in xmlcolumns.read_columns(path, vid.COLUMNS, chunk, batch_rows=700, lines=True)
            for offset, (line, document) in enumerate(zip(batch.lines, batch.columns["document_id"].to_pylist(),
                                                          strict=True))]


def chunked(path: Path, count: int) -> list[tuple[int, int, str]]:
    chunks = plan_chunks(path, vid.LAYOUT, count)
    assert chunks is not None and len(chunks) == count
    return [record for chunk in chunks for record in records(path, chunk)]


@pytest.mark.parametrize("engine", ["canon", "exact", "exact, lines by the lxml locator"])
def test_chunks_give_exactly_the_records_numbers_and_lines_of_the_whole_file(tmp_path, monkeypatch, engine):
    path = big_extract(tmp_path / "income.xml", 3000)
    if engine != "canon":
        monkeypatch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)
    noted = engine.endswith("locator")
    if noted:  # a comment in every chunk's body: the byte scan cannot give the lines
        for n in (500, 1500, 2500):
            path.write_bytes(path.read_bytes().replace(f"<Income><DocumentId>D-{n}<".encode(),
                                                       f"<!-- a note -->\n<Income><DocumentId>D-{n}<".encode()))
    assert chunked(path, 3) == records(path)
    assert all(xmlcolumns.start_tag_lines(path, "Income", chunk) is None
               for chunk in plan_chunks(path, vid.LAYOUT, 3)) == noted
    lines = [(1, 3, "D-0"), (2, 4, "D-1"), (2001, 2003 + 2 * noted, "D-2000")]  # the notes push lines down
    assert [records(path)[n] for n in (0, 1, 2000)] == lines


def test_a_truncated_file_is_not_split_and_still_fails(tmp_path):
    path = big_extract(tmp_path / "income.xml", 3000)
    path.write_bytes(path.read_bytes()[:-300])
    assert plan_chunks(path, vid.LAYOUT, 3) is None
    with pytest.raises(SourceError, match="malformed XML") as caught:  # cut inside a record's tag
        records(path)
    assert caught.value.line == 3001


@pytest.fixture
def small_split(monkeypatch):
    monkeypatch.setattr(base, "SPLIT_ABOVE_BYTES", 1000)
    monkeypatch.setattr(base, "CHUNK_BYTES", 200_000)


def stage(tmp_path: Path, path: Path):
    settings = Settings(pseudonym_secret=b"k", workers=2, data_docs=False)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / "work", "2025-01"), settings, path.parent)
    return vid.stage([path], ctx)


def test_staging_a_split_file_uses_several_parts_with_whole_file_record_numbers(tmp_path, small_split):
    path = big_extract(tmp_path / "income.xml", 5000)
    result = stage(tmp_path, path)
    assert len(result.parts) > 2 and result.records_per_file == {"income.xml": 5000}
    numbers = [n for part in result.parts for n in pq.read_table(part, columns=["record"]).column(0).to_pylist()]
    assert numbers == list(range(1, 5001))


def test_a_record_tag_inside_a_comment_falls_back_to_the_whole_file(tmp_path, small_split):
    path = big_extract(tmp_path / "income.xml", 5000, comment_at=4000)
    result = stage(tmp_path, path)
    numbers = [n for part in result.parts for n in pq.read_table(part, columns=["record"]).column(0).to_pylist()]
    assert numbers == list(range(1, 5001))


def test_a_schema_break_in_a_later_chunk_names_the_files_record_and_line(tmp_path, small_split):
    path = big_extract(tmp_path / "income.xml", 5000, bad_at=4321)
    with pytest.raises(SourceError) as caught:
        stage(tmp_path, path)
    assert caught.value.record == 4322 and caught.value.line == 4324  # declaration and root come first


def test_the_digest_fed_while_parsing_is_the_files_sha256(tmp_path):
    import hashlib

    path = big_extract(tmp_path / "income.xml", 2000)
    digest = hashlib.sha256()
    assert sum(batch.rows for batch in xmlcolumns.read_columns(path, vid.COLUMNS, digest=digest)) == 2000
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
