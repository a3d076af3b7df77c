"""VSAA staging (CONTRACTS §5): one row per PersonCode and per Month, joined on the Person's index, must give the
same rows, record and line numbers and quarantine from the canonical walk as from the exact engine, the ones each
test spells out, and refuse every file that breaks the XSD naming its record and line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lxml import etree
from xml2arrow import XmlToArrowParser

from pipeline.config import Settings, WorkLayout
from pipeline.errors import SourceError
from pipeline.quality.pseudonym import person_key
from pipeline.sources import base, vid, vsaa, xmlcanon, xmlcolumns
from pipeline.sources.base import StageContext

NS = "urn:eikis:vsaa:benefits:v1"
SECRET = b"k"


def person(code: str, *months: tuple[str, str], gap: str = "") -> str:
    """One Person; `gap` goes between its children (a newline spreads the person over lines)."""
    children = [f"<PersonCode>{code}</PersonCode>", "<GivenName>Anna</GivenName>", "<Surname>Kļava</Surname>"]
    children += [f'<Month period="{period}">{amount}</Month>' for period, amount in months]
    return f"<Person>{gap}{gap.join(children)}{gap}</Person>\n"


def extract(body: str, namespace: str = NS) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<BenefitsExtract xmlns="{namespace}" extractDate="2026-11-01">'
            f"\n{body}</BenefitsExtract>\n").encode()


def write(tmp_path: Path, body: str, name: str = "benefits.xml") -> Path:
    path = tmp_path / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(extract(body))
    return path


def stage(tmp_path: Path, files: list[Path], name: str = "work", workers: int = 1,
          batch_rows: int = 200_000) -> tuple[pa.Table, list[dict[str, Any]], dict[str, int]]:
    settings = Settings(pseudonym_secret=SECRET, workers=workers, data_docs=False, batch_rows=batch_rows)
    ctx = StageContext("2026-11", WorkLayout(tmp_path / name, "2026-11"), settings, files[0].parent)
    result = vsaa.stage(files, ctx)
    table = pa.concat_tables([pq.read_table(part) for part in result.parts])
    return table, result.quarantine.table().to_pylist(), result.records_per_file


def both_paths(tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch, proven: bool = True,
               **options: Any) -> tuple:
    """Stage as the sources do (the canonical walk proves every file, unless `proven` is False), then with the
    exact engine alone; assert they agree and return the first."""
    assert all((xmlcanon.prove(path, vsaa.LAYOUT, vsaa.COLUMNS.fields, row_per_child=True) is not None) == proven
               for path in files)
    walked = stage(tmp_path, files, "walked", **options)
    with monkeypatch.context() as patch:
        patch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)
        exact = stage(tmp_path, files, "exact", **options)
    assert walked[0].equals(exact[0])
    assert json.dumps(walked[1:], sort_keys=True) == json.dumps(exact[1:], sort_keys=True)
    return walked


def quarantined(rows: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(row["record"], row["line"], row["reason"]) for row in rows]


def test_every_kind_of_bad_month_is_read_alike_by_both_across_batch_boundaries(tmp_path, monkeypatch):
    months = [("2026-01", "417.54"), ("2024-13", "1.00"), ("2026-02", "1.234"), ("2026-03", "-3.00"),
              ("2026-04", "-0.00"), ("2026-05", " 12.5 "), ("", "abc"), ("2026-06", ""), ("2026-07", "١٢"),
              ("2026-08", "999999999999.99"), ("２０２６-09", "1"), ("2026-10", "12.")]
    body = "".join(person(f"0101{n % 90 + 10:02d}10001", *months[n % 5:], gap="\n  " if n % 3 else "")
                   for n in range(40))
    body += person("12345", *months) + person("") + person("010190-10001") + person("0101901000١", ("2026-01", "1"))
    path = write(tmp_path, body)
    table, rows, records = both_paths(tmp_path, [path], monkeypatch, batch_rows=7)  # persons split over batches
    reasons = Counter(row["reason"] for row in rows)
    assert reasons["INVALID_PERSON_CODE"] == 3 and reasons["BAD_PERIOD"] > 0 and reasons["NEGATIVE_AMOUNT"] > 0
    assert reasons["BAD_AMOUNT"] > 0 and reasons["DUPLICATE_MONTH"] == 0
    assert records == {"benefits.xml": table.num_rows + len(rows)}
    assert 0 in table.column("amount_cents").to_pylist() and 1250 in table.column("amount_cents").to_pylist()
    assert 99999999999999 in table.column("amount_cents").to_pylist()


def test_a_bad_month_is_quarantined_at_its_own_line_and_record(tmp_path, monkeypatch):
    body = (person("01019010001", ("2026-01", "1.00")) +
            person("02029010002", ("2026-01", "1.00"), ("2024-13", "-1"), ("2026-02", "1.234"), ("2026-03", "-3"),
                   gap="\n"))
    path = write(tmp_path, body)
    table, rows, _ = both_paths(tmp_path, [path], monkeypatch)
    # record 2 starts on line 4; its Months follow PersonCode, GivenName and Surname one per line
    assert quarantined(rows) == [(2, 9, "BAD_PERIOD"), (2, 10, "BAD_AMOUNT"), (2, 11, "NEGATIVE_AMOUNT")]
    assert all(row["person_key"] == person_key(SECRET, "02029010002") and row["marks_review"] for row in rows)
    assert table.select(["record", "line", "amount_cents"]).to_pylist() == [
        {"record": 1, "line": 3, "amount_cents": 100}, {"record": 2, "line": 8, "amount_cents": 100}]


def test_a_person_with_an_invalid_code_is_one_record_at_its_line_and_stages_no_month(tmp_path, monkeypatch):
    body = (person("01019010001", ("2026-01", "1.00")) +
            person("0101901000١", ("2026-01", "5.00"), ("2026-02", "6.00"), gap="\n") +
            person("", ("2026-01", "7.00")))
    path = write(tmp_path, body)
    table, rows, records = both_paths(tmp_path, [path], monkeypatch)
    assert quarantined(rows) == [(2, 4, "INVALID_PERSON_CODE"), (3, 11, "INVALID_PERSON_CODE")]
    assert rows[0]["person_key"] == person_key(SECRET, "01019010001")  # its household goes to REVIEW
    assert rows[1]["person_key"] is None
    assert table.column("amount_cents").to_pylist() == [100] and records == {"benefits.xml": 3}


def test_duplicate_months_within_and_across_files_quarantine_every_copy(tmp_path, monkeypatch):
    first = write(tmp_path, person("01019010001", ("2026-01", "1"), ("2026-02", "2")) +
                  person("02029010002", ("2026-01", "3")), "a.xml")
    second = write(tmp_path, person("01019010001", ("2026-02", "9")), "b.xml")
    third = write(tmp_path, person("03039010003", ("2026-01", "4"), ("2026-01", "4")), "c.xml")
    clean = write(tmp_path, person("04049010004", ("2026-01", "5")), "d.xml")
    table, rows, _ = both_paths(tmp_path, [first, second, third, clean], monkeypatch)
    assert [(row["file"], row["record"], row["reason"]) for row in rows] == [
        ("a.xml", 1, "DUPLICATE_MONTH"), ("b.xml", 1, "DUPLICATE_MONTH"),
        ("c.xml", 1, "DUPLICATE_MONTH"), ("c.xml", 1, "DUPLICATE_MONTH")]
    assert rows[0]["person_key"] == person_key(SECRET, "01019010001")
    assert table.select(["file", "amount_cents"]).to_pylist() == [
        {"file": "a.xml", "amount_cents": 100}, {"file": "a.xml", "amount_cents": 300},
        {"file": "d.xml", "amount_cents": 500}]


def test_an_unknown_element_in_a_person_is_refused_with_record_and_line(tmp_path):
    bad = person("02029010002", ("2026-01", "1")).replace("<GivenName>", "<Bonus>010190-10001</Bonus><GivenName>")
    path = write(tmp_path, person("01019010001", ("2026-01", "1")) + bad)
    config = tmp_path / "map.yaml"
    config.write_text(vsaa.COLUMNS.yaml(), encoding="utf-8")
    raw = XmlToArrowParser(str(config)).parse(str(path))["rows"]
    assert raw.column("code").to_pylist() == ["01019010001", None, "02029010002", None]  # xml2arrow reads past it
    with pytest.raises(SourceError) as caught:
        stage(tmp_path, [path])
    message = caught.value.one_line()
    assert "XSD violation" in message and "Bonus" in message and caught.value.record == 2
    assert caught.value.line == 4 and "010190" not in message


def test_a_person_without_a_person_code_is_refused_naming_the_record(tmp_path):
    bad = person("02029010002", ("2026-01", "1")).replace("<PersonCode>02029010002</PersonCode>", "")
    path = write(tmp_path, person("01019010001") + person("03039010003") + bad)
    with pytest.raises(SourceError, match="XSD violation") as caught:
        stage(tmp_path, [path])
    assert caught.value.record == 3 and caught.value.line == 5


def test_a_wrong_namespace_is_refused(tmp_path):
    path = tmp_path / "inbox" / "ns.xml"
    path.parent.mkdir()
    path.write_bytes(extract(person("01019010001", ("2026-01", "1")), namespace="urn:eikis:vsaa:benefits:v2"))
    with pytest.raises(SourceError, match="XSD violation"):
        stage(tmp_path, [path])


@pytest.mark.parametrize(("cut", "expected"), [
    (lambda data: data.rsplit(b"</BenefitsExtract>", 1)[0], "premature end of data"),
    (lambda data: data[: data.rindex(b"<Month") + 12], "benefits.xml"),
])
def test_a_truncated_file_is_refused_with_a_line(tmp_path, cut, expected):
    path = write(tmp_path, "".join(person(f"0101901000{n}", ("2026-01", "1"), ("2026-02", "2")) for n in range(5)))
    path.write_bytes(cut(path.read_bytes()))
    with pytest.raises(SourceError, match=expected) as caught:
        stage(tmp_path, [path])
    assert caught.value.line is not None and caught.value.line >= 6


def test_an_empty_or_missing_file_is_a_one_line_error_naming_it(tmp_path):
    empty = write(tmp_path, "", "empty.xml")
    empty.write_bytes(b"")
    for path in (empty, tmp_path / "inbox" / "missing.xml"):  # a file that vanished after the inbox was listed
        task = base.FileTask(path, path.name, tmp_path / "part.parquet", SECRET, 100)
        with pytest.raises(SourceError, match=path.name) as caught:
            vsaa._parse_file(task)
        assert "\n" not in caught.value.one_line()


def test_a_comment_in_the_body_gets_its_month_lines_from_the_lxml_locator(tmp_path, monkeypatch):
    body = (person("01019010001", ("2026-01", "1")) + '<!-- <Month period="2026-01">1</Month>\n -->\n' +
            person("02029010002", ("2024-13", "1"), gap="\n"))
    path = write(tmp_path, body)
    _, rows, _ = both_paths(tmp_path, [path], monkeypatch, proven=False)
    assert quarantined(rows) == [(2, 10, "BAD_PERIOD")]


@pytest.mark.parametrize("scanned", [lambda lines: lines[:-1], lambda lines: np.append(lines, 99)])
def test_start_tags_that_are_not_the_rows_read_stop_the_file_never_stage_other_lines(tmp_path, monkeypatch,
                                                                                      scanned):
    path = write(tmp_path, person("01019010001", ("2026-01", "1"), ("2024-13", "2"), gap="\n"))
    scan = xmlcolumns.start_tag_lines
    monkeypatch.setattr(xmlcolumns, "start_tag_lines", lambda *args: scanned(scan(*args)))
    monkeypatch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)
    with pytest.raises(SourceError, match="start tags found") as caught:
        stage(tmp_path, [path])
    assert caught.value.file == str(path) and "\n" not in caught.value.one_line()


def test_a_split_file_stages_exactly_what_the_whole_file_does(tmp_path, monkeypatch):
    body = "".join(person(f"{n:011d}", ("2026-01", f"{n}.5"), ("2024-13" if n % 97 == 0 else "2026-02", "1"),
                          gap="\n" * (n % 2)) for n in range(3000))
    path = write(tmp_path, body)
    whole = stage(tmp_path, [path], "whole")
    monkeypatch.setattr(base, "SPLIT_ABOVE_BYTES", 1000)
    monkeypatch.setattr(base, "CHUNK_BYTES", 100_000)
    split = stage(tmp_path, [path], "split", workers=2)
    assert len(list((tmp_path / "split").rglob("part-0000-00*.parquet"))) > 2
    assert split[0].equals(whole[0]) and split[1:] == whole[1:]


def tag_lines_by_lxml(path: Path, local: str) -> list[int]:
    return [element.sourceline for _, element in etree.iterparse(str(path), events=("start",))
            if etree.QName(element).localname == local]


@pytest.mark.parametrize("block", [7, 16 << 20])
def test_start_tag_lines_are_the_lines_lxml_gives_even_for_a_tag_broken_over_lines(tmp_path, monkeypatch, block):
    monkeypatch.setattr(xmlcolumns, "_SCAN_BLOCK", block)
    body = (person("01019010001", ("2026-01", "1")).replace("<Month ", "<Month\n ") +
            '<Person\n><PersonCode>1</PersonCode><Month period="a>\nb"\n>x\n</Month><Month\tperiod="c"/></Person>\n'
            '<Person><PersonCode>2</PersonCode><Months/><Month period=\'>\'>1</Month></Person>\n')
    path = write(tmp_path, body)
    assert list(xmlcolumns.start_tag_lines(path, "Month", None)) == tag_lines_by_lxml(path, "Month") == [4, 8, 9, 10]
    assert list(xmlcolumns.record_lines(path, vsaa.LAYOUT, None)) == tag_lines_by_lxml(path, "Person") == [3, 6, 10]
    prefixed = tmp_path / "prefixed.xml"
    prefixed.write_bytes(path.read_bytes().replace(b"<Month", b"<v:Month").replace(b"</Month", b"</v:Month")
                         .replace(f'xmlns="{NS}"'.encode(), f'xmlns="{NS}" xmlns:v="{NS}"'.encode()))
    assert list(xmlcolumns.start_tag_lines(prefixed, "Month", None)) == tag_lines_by_lxml(prefixed, "Month")


def test_a_vid_record_tag_broken_over_lines_gets_the_line_lxml_gives(tmp_path):
    from tests.unit.test_xml_hardening import RECORD
    from tests.unit.test_xml_hardening import extract as vid_extract

    path = tmp_path / "income.xml"
    path.write_bytes(vid_extract(RECORD.format(n=1, amount="1") + RECORD.format(n=2, amount="1").replace(
        "<Income>", "<Income\n>")))
    assert list(xmlcolumns.record_lines(path, vid.LAYOUT, None)) == tag_lines_by_lxml(path, "Income") == [2, 4]


def test_the_numpy_tag_scan_finds_what_the_regex_finds(tmp_path, monkeypatch):
    import mmap
    import re

    text = b"<Month <Month>x<Months><Mont<Month/<Month\t\x0c<Month\n<Month<Month:<Month" * 3 + b"<Month"
    path = tmp_path / "tags.bin"
    path.write_bytes(text)
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Month[\s>/]")
    monkeypatch.setattr(xmlcolumns, "_SCAN_BLOCK", 5)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for start, end in [(0, len(text)), (1, len(text) - 1), (7, 60)]:
            found, following = xmlcolumns._unprefixed_start_tags(data, start, end, b"<Month")
            assert list(found) == [m.start() for m in pattern.finditer(data, start, end)]
            assert list(following) == [xmlcolumns._find(data, b"<", at + 1, end) for at in found]
    assert np.all(following > found)
