"""The exact engine (xml2arrow + libxml2 streaming XSD) keeps every guarantee of a validating parser.

xml2arrow on its own ignores unknown elements and namespaces and accepts a file cut after a whole record: each of
those is shown here, and then shown to be caught by the reader the sources use.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from xml2arrow import XmlToArrowParser
from xml2arrow.exceptions import Xml2ArrowError

from pipeline.config import Settings, WorkLayout
from pipeline.errors import SourceError
from pipeline.sources import pmlp, sopa, vid, xmlcanon, xmlcolumns, xsdstream
from pipeline.sources.base import StageContext
from tests.conftest import SAMPLE_INBOX, SAMPLE_PERIOD
from tests.unit.test_xml_hardening import RECORD, extract


def records(count: int, amount: str = "1.00") -> str:
    return "".join(RECORD.format(n=n, amount=amount) for n in range(count))


def read(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for batch in xmlcolumns.read_columns(path, vid.COLUMNS, batch_rows=2):
        for name, column in batch.columns.items():
            out.setdefault(name, []).extend(column.to_pylist())
    return out


def raw_xml2arrow(path: Path, tmp_path: Path) -> dict[str, list[str]]:
    config = tmp_path / "map.yaml"
    config.write_text(vid.COLUMNS.yaml(), encoding="utf-8")
    return XmlToArrowParser(str(config)).parse(str(path))["records"].to_pydict()


def test_texts_come_back_exactly_as_a_parser_reads_them(tmp_path):
    odd = RECORD.format(n=9, amount="1.00").replace("D-9", "A &amp; B &#65; <![CDATA[<c>]]>").replace(
        "<PersonCode>01019010001</PersonCode>", "<PersonCode/>")
    path = tmp_path / "ok.xml"
    path.write_bytes(extract(records(3) + odd))
    columns = read(path)
    assert columns["document_id"] == ["D-0", "D-1", "D-2", "A & B A <c>"]
    assert columns["person_code"] == ["01019010001"] * 3 + [""]
    assert columns["amount"] == ["1.00"] * 4 and "GivenName" not in columns


def test_xml2arrow_never_expands_an_entity_and_the_reader_refuses_the_doctype_first(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9731", encoding="utf-8")
    prolog = f'<?xml version="1.0"?><!DOCTYPE IncomeExtract [<!ENTITY leak SYSTEM "file://{secret}">]>'
    path = tmp_path / "xxe.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="&leak;"), prolog))
    with pytest.raises(Xml2ArrowError) as raw:
        raw_xml2arrow(path, tmp_path)
    assert "TOP-SECRET" not in str(raw.value)
    with pytest.raises(SourceError, match="DOCTYPE") as caught:
        read(path)
    assert "xxe.xml" in str(caught.value) and "TOP-SECRET" not in str(caught.value)


def test_the_c_validator_never_reads_a_declared_entity(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("<DocumentId>x</DocumentId>", encoding="utf-8")
    prolog = f'<?xml version="1.0"?><!DOCTYPE IncomeExtract [<!ENTITY leak SYSTEM "file://{secret}">]>'
    path = tmp_path / "xxe.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1").replace("<DocumentId>D-1</DocumentId>", "&leak;"),
                             prolog))
    with path.open("rb") as handle:
        outcome = xsdstream.validate_stream(handle, vid.LAYOUT.schema_file)  # type: ignore[arg-type]
    assert not outcome.valid  # the entity stays undefined, so DocumentId is missing


def test_an_entity_without_a_doctype_is_an_error_not_text(tmp_path):
    path = tmp_path / "entity.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="&lol;")))
    with pytest.raises(SourceError, match="entity.xml"):
        read(path)


def test_neither_reader_touches_the_network(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(3)
    port = listener.getsockname()[1]
    calls: list[object] = []
    watcher = threading.Thread(target=lambda: _accept(listener, calls), daemon=True)
    watcher.start()
    hint = (f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="urn:eikis:vid:income:v1 http://127.0.0.1:{port}/evil.xsd"')
    path = tmp_path / "hint.xml"
    path.write_bytes(extract(records(2)).replace(b"extractDate=", hint.encode() + b" extractDate="))
    assert read(path)["document_id"] == ["D-0", "D-1"]
    watcher.join()
    listener.close()
    assert calls == []


def _accept(listener: socket.socket, calls: list[object]) -> None:
    with contextlib.suppress(OSError):  # the timeout: nobody called
        calls.append(listener.accept())


def test_a_file_cut_after_a_whole_record_is_rejected_although_xml2arrow_accepts_it(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes(extract(records(5)).rsplit(b"</IncomeExtract>", 1)[0])
    assert len(raw_xml2arrow(path, tmp_path)["document_id"]) == 5  # the blind spot this reader closes
    with pytest.raises(SourceError, match="premature end of data") as caught:
        read(path)
    assert caught.value.file == str(path) and caught.value.line == 7


def test_a_file_cut_inside_a_record_names_file_and_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes(extract(records(5))[:-120])
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.file == str(path) and caught.value.line is not None and caught.value.line >= 5


def test_an_unknown_element_is_rejected_although_xml2arrow_ignores_it(tmp_path):
    bad = RECORD.format(n=2, amount="1.00").replace("<DocumentType>", "<Bonus>010190-10001</Bonus><DocumentType>")
    path = tmp_path / "xsd.xml"
    path.write_bytes(extract(records(1) + bad))
    assert raw_xml2arrow(path, tmp_path)["document_id"] == ["D-0", "D-2"]
    with pytest.raises(SourceError) as caught:
        read(path)
    message = caught.value.one_line()
    assert "XSD violation" in message and "Bonus" in message and "record 2" in message and ":3 " in message
    assert "010190" not in message


def test_a_wrong_namespace_is_rejected_although_xml2arrow_ignores_it(tmp_path):
    path = tmp_path / "ns.xml"
    path.write_bytes(extract(records(1), namespace="urn:eikis:vid:income:v2"))
    assert raw_xml2arrow(path, tmp_path)["document_id"] == ["D-0"]
    with pytest.raises(SourceError, match="XSD violation"):
        read(path)


def test_a_missing_required_element_names_the_record(tmp_path):
    bad = RECORD.format(n=3, amount="1.00").replace("<PeriodEnd>2024-03</PeriodEnd>", "")
    path = tmp_path / "missing.xml"
    path.write_bytes(extract(records(2) + bad))
    with pytest.raises(SourceError, match="XSD violation") as caught:
        read(path)
    assert caught.value.record == 3 and caught.value.line == 4


@pytest.mark.parametrize(("name", "content"), [
    ("after.xml", extract(records(2)) + b"<Income/>\n"),
    ("bytes.xml", extract(records(2)).replace(b"D-1", b"D-\xff\xfe")),
    ("tags.xml", extract(records(2)).replace(b"</PersonCode>", b"</DocumentId>", 1)),
])
def test_malformed_input_is_one_whole_file_error_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=name) as caught:
        read(path)
    assert "\n" not in caught.value.one_line() and caught.value.line is not None


def _stage(tmp_path: Path, path: Path, name: str, workers: int = 1) -> tuple[pa.Table, str]:
    settings = Settings(pseudonym_secret=b"k", workers=workers, data_docs=False)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / name, "2025-01"), settings, path.parent)
    result = vid.stage([path], ctx)
    table = pa.concat_tables([pq.read_table(part) for part in result.parts])
    return table, json.dumps([result.quarantine.rows, result.records_per_file, result.digests], sort_keys=True)


def no_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)


@pytest.mark.parametrize("comment", [False, True])
def test_vid_staging_is_identical_on_the_walk_and_the_exact_engine_with_bad_records(tmp_path, monkeypatch,
                                                                                    comment):
    body = []
    breakers = {1: ("01019010001", "12345"), 2: ("EMPLOYER_NOTICE", "BOGUS"), 3: ("2024-03</PeriodStart>",
                "2024-13</PeriodStart>"), 4: (">1.00<", ">-3.00<"), 5: (">1.00<", ">1.234<"),
                6: ("2024-04-15T", "2024-02-30T"), 7: (">1.00<", ">-0.00<")}
    for n in range(400):
        record = RECORD.format(n=n % 300, amount="1.00")
        old, new = breakers.get(n % 50, ("", ""))
        body.append(record.replace(old, new) if old else record)
        if n == 120 and comment:  # the walk declines it, and the lines come from the lxml locator
            body.append("<!-- a stray <Income> in a comment -->\n")
    path = tmp_path / "income.xml"
    path.write_bytes(extract("".join(body), prolog='<?xml version="1.0"?>\n'))
    assert (xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields) is None) == comment
    first = _stage(tmp_path, path, "first")
    no_proof(monkeypatch)
    exact = _stage(tmp_path, path, "exact")
    assert first[0].equals(exact[0]) and first[1] == exact[1]
    quarantine = json.loads(first[1])[0]
    assert len(quarantine) == 6 * 8  # "-0.00" is zero, not a bad amount
    lines = {row["record"]: row["line"] for row in quarantine}
    assert lines[2] == 4 and lines[152] == 154 + comment  # record 152 sits one line lower after the comment


@pytest.mark.parametrize(("module", "pattern"), [(pmlp, "pmlp/*.xml"), (sopa, "sopa/*.xml")])
def test_per_record_sources_get_the_same_texts_numbers_and_lines_from_the_walk_and_the_engine(monkeypatch, module,
                                                                                             pattern):
    files = sorted((SAMPLE_INBOX / SAMPLE_PERIOD).glob(pattern))
    assert files

    def rows(path: Path) -> list[tuple[str, int, int, tuple[str, ...]]]:
        """(reader, record number, line, texts) of every record."""
        out = []
        for batch in xmlcolumns.read_columns(path, module.COLUMNS, batch_rows=7, lines=True):
            texts = zip(*(column.to_pylist() for column in batch.columns.values()), strict=True)
            out += [(batch.reader, batch.first + offset, int(line), values)
                    for offset, (line, values) in enumerate(zip(batch.lines, texts, strict=True))]
        return out

    walked = [row for path in files for row in rows(path)]
    no_proof(monkeypatch)
    parsed = [row for path in files for row in rows(path)]
    assert {row[0] for row in walked} == {"canon"} and {row[0] for row in parsed} == {"xml2arrow"}
    assert [row[1:] for row in walked] == [row[1:] for row in parsed]
    assert len(parsed) >= 5 and all(row[2] > 1 for row in parsed)


def test_record_lines_come_from_the_lxml_locator_when_a_comment_could_hide_a_tag(tmp_path):
    path = tmp_path / "c.xml"
    path.write_bytes(extract(records(2) + "<!-- <Income> -->\n" + records(1), prolog='<?xml version="1.0"?>\n'))
    assert xmlcolumns.start_tag_lines(path, "Income", None) is None
    assert list(xmlcolumns.record_lines(path, vid.LAYOUT, None)) == [3, 4, 6]


@pytest.mark.parametrize("module", [vid, pmlp, sopa])
def test_an_empty_or_missing_file_is_a_one_line_error(tmp_path, module):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    for path in (empty, tmp_path / "missing.xml"):
        with pytest.raises(SourceError, match=path.name):
            list(xmlcolumns.read_columns(path, module.COLUMNS, lines=True))
