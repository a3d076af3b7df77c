"""Untrusted XML: entities, bombs, DOCTYPEs, truncation, wrong namespace, schema breaks, bad bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.sources import vid, xmlcanon, xmlcolumns

NS = "urn:eikis:vid:income:v1"
RECORD = ("<Income><DocumentId>D-{n}</DocumentId><PersonCode>01019010001</PersonCode>"
          "<DocumentType>EMPLOYER_NOTICE</DocumentType><PeriodStart>2024-03</PeriodStart><PeriodEnd>2024-03</PeriodEnd>"
          "<AmountEUR>{amount}</AmountEUR><SubmittedAt>2024-04-15T10:00:00</SubmittedAt></Income>\n")


def extract(body: str, prolog: str = "", namespace: str = NS) -> bytes:
    return f'{prolog}<IncomeExtract xmlns="{namespace}" extractDate="2025-01-31">\n{body}</IncomeExtract>\n'.encode()


def read_all(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for batch in xmlcolumns.read_columns(path, vid.COLUMNS):
        for name, column in batch.columns.items():
            out.setdefault(name, []).extend(column.to_pylist())
    return out


def test_a_valid_extract_streams_every_record(tmp_path):
    path = tmp_path / "ok.xml"
    path.write_bytes(extract("".join(RECORD.format(n=n, amount="1.00") for n in range(3))))
    assert read_all(path)["document_id"] == ["D-0", "D-1", "D-2"]


def test_external_entity_to_a_local_file_is_rejected_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9731", encoding="utf-8")
    prolog = f'<?xml version="1.0"?><!DOCTYPE IncomeExtract [<!ENTITY leak SYSTEM "file://{secret}">]>'
    path = tmp_path / "xxe.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="&leak;"), prolog))
    with pytest.raises(SourceError) as caught:
        read_all(path)
    assert "DOCTYPE" in str(caught.value) and "xxe.xml" in str(caught.value)
    assert "TOP-SECRET-9731" not in str(caught.value)


def test_billion_laughs_is_rejected_without_expansion(tmp_path):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    prolog = f'<?xml version="1.0"?><!DOCTYPE IncomeExtract [{entities}]>'
    path = tmp_path / "bomb.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="&lol9;"), prolog))
    with pytest.raises(SourceError, match="DOCTYPE"):
        read_all(path)


def test_truncated_file_is_a_whole_file_error_with_a_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes(extract("".join(RECORD.format(n=n, amount="1.00") for n in range(5)))[:-120])
    with pytest.raises(SourceError) as caught:
        read_all(path)
    assert caught.value.file == str(path) and caught.value.line is not None and caught.value.line >= 5


def test_wrong_namespace_is_rejected(tmp_path):
    path = tmp_path / "ns.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1.00"), namespace="urn:eikis:vid:income:v2"))
    with pytest.raises(SourceError, match="XSD violation"):
        read_all(path)


def test_schema_violation_names_the_record_and_withholds_values(tmp_path):
    bad = RECORD.format(n=2, amount="1.00").replace("<DocumentType>", "<Bonus>010190-10001</Bonus><DocumentType>")
    path = tmp_path / "xsd.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1.00") + bad))
    with pytest.raises(SourceError) as caught:
        read_all(path)
    message = caught.value.one_line()
    assert "Bonus" in message and "record 2" in message and "010190" not in message


def test_undecodable_bytes_are_a_whole_file_error(tmp_path):
    path = tmp_path / "bytes.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1.00")).replace(b"D-1", b"D-\xff\xfe"))
    with pytest.raises(SourceError, match="bytes.xml"):
        read_all(path)


def test_the_exact_engine_hands_out_records_in_bounded_batches(tmp_path, monkeypatch):
    """A file the canonical walk declines streams through xml2arrow: no batch holds more than asked."""
    monkeypatch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)
    path = tmp_path / "many.xml"
    path.write_bytes(extract("".join(RECORD.format(n=n, amount="1.00") for n in range(20000))))
    held = [batch.rows for batch in xmlcolumns.read_columns(path, vid.COLUMNS, batch_rows=500)]
    assert sum(held) == 20000 and max(held) <= 500


def test_a_file_cut_right_after_a_record_is_truncated_whatever_the_parser_says(tmp_path):
    """A parser may close the root of a cut file silently (lxml 6.2 does, xml2arrow does); the reader checks the
    file's own last bytes."""
    path = tmp_path / "cut.xml"
    whole = extract("".join(RECORD.format(n=n, amount="1.00") for n in range(5)))
    path.write_bytes(whole[: whole.rindex(b"</IncomeExtract>")])
    with pytest.raises(SourceError, match="premature end") as caught:
        read_all(path)
    assert caught.value.file == str(path)


def test_comments_and_whitespace_after_the_root_are_still_a_whole_file(tmp_path):
    path = tmp_path / "tail.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1.00")) + b"<!-- sent by VID -->\n<?done yes?>\n\n")
    assert read_all(path)["document_id"] == ["D-1"]
