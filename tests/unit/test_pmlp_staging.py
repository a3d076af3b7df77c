"""PMLP staging (CONTRACTS §3) checks whole batches at once: every record rule, its reason code, detail, record and
line number must be what the per-record rules give, from the canonical walk and the exact engine alike, and names
must only be sealed and keyed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.ingest import load_address_status
from pipeline.quality import personcode
from pipeline.quality.pseudonym import name_keys, person_key
from pipeline.quality.sealing import Sealer
from pipeline.sources import pmlp, xmlcanon, xmlcolumns
from pipeline.sources.base import StageContext
from pipeline.sources.xmlstream import located_lines

GOOD = personcode.with_check_digit("1503801000")
PERSON = ("<p:Person><p:PersonCode>{code}</p:PersonCode><p:GivenName>{given}</p:GivenName><p:Surname>Bērziņš"
          "</p:Surname><p:Status>{status}</p:Status><p:Vital>{vital}</p:Vital><p:AddressKind>{kind}</p:AddressKind>"
          "<p:AddressCode>{aris}</p:AddressCode><p:AddressText>Ozolu iela 18</p:AddressText></p:Person>\n")
DEFAULTS = {"given": "Jānis", "status": "ACTIVE", "vital": "ALIVE", "kind": "DECLARED", "aris": "100000001"}
# record number -> (changed fields, the expected reason, detail)
BROKEN = {
    2: ({"code": GOOD[:10] + str((int(GOOD[10]) + 1) % 10)}, "INVALID_PERSON_CODE", "PersonCode fails the §3 rule"),
    3: ({"code": "٠١٠١٩٠١٠٠٠١"}, "INVALID_PERSON_CODE", "PersonCode fails the §3 rule"),
    4: ({"code": "x", "status": "GONE"}, "INVALID_PERSON_CODE", "PersonCode fails the §3 rule"),  # first rule wins
    5: ({"status": "GONE", "vital": "?"}, "UNKNOWN_ENUM", "Status is not one of ACTIVE|INACTIVE"),
    6: ({"vital": "alive"}, "UNKNOWN_ENUM", "Vital is not one of ALIVE|DECEASED"),
    7: ({"kind": ""}, "UNKNOWN_ENUM", "AddressKind is not one of DECLARED|REGISTERED|UA_CONTACT"),
    8: ({"aris": " \u00a0\u3000"}, "MISSING_VALUE", "AddressCode is empty"),    # Unicode spaces: str.strip()
    9: ({"aris": "100000009"}, "UNKNOWN_ADDRESS", "AddressCode is not an existing (EKS) ARIS address"),
    10: ({"aris": "100000002"}, "UNKNOWN_ADDRESS", "AddressCode is not an existing (EKS) ARIS address"),  # DEL
    11: ({"code": "32579461005"}, "DUPLICATE_PERSON", "PersonCode appears more than once in the PMLP extract"),
    12: ({"code": "325794-61005", "vital": "?"}, "DUPLICATE_PERSON",
         "PersonCode appears more than once in the PMLP extract"),   # a duplicate outranks its own problem
}


def persons_file(folder, count: int = 16, comment: bool = True, prefix: str = "p:") -> None:
    body = []
    for number in range(1, count + 1):
        fields = {**DEFAULTS, "code": personcode.with_check_digit(f"0101{number + 10:02d}1000"),
                  **BROKEN.get(number, ({},))[0]}
        body.append(PERSON.format(**fields))
        if number == 6 and comment:
            body.append("<!-- a <p:Person> in a comment moves the later records down a line -->\n")
    folder.mkdir(parents=True, exist_ok=True)
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<p:PersonsExtract xmlns:p="urn:eikis:pmlp:persons:v1" '
            f'extractDate="2025-01-31">\n{"".join(body)}</p:PersonsExtract>\n')
    text = text.replace("<p:", f"<{prefix}").replace("</p:", f"</{prefix}").replace("xmlns:p=", "xmlns:p=" if prefix
                                                                                     else "xmlns=")
    (folder / "persons.xml").write_text(text, encoding="utf-8")


def stage(tmp_path, name: str, comment: bool = True, prefix: str = "p:"):
    inbox = tmp_path / "inbox"
    persons_file(inbox / "pmlp", comment=comment, prefix=prefix)
    settings = Settings(pseudonym_secret=b"k", portal_data_key=b"d", workers=1, data_docs=False, batch_rows=5)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / name, "2025-01"), settings, inbox,
                       address_status=pd.Series(["EKS", "DEL"], index=["100000001", "100000002"]))
    result = pmlp.stage([inbox / "pmlp" / "persons.xml"], ctx)
    return pq.read_table(result.parts[0]), result


@pytest.mark.parametrize(("reader", "comment", "prefix"), [("canon", False, ""), ("exact", False, ""),
                                                          ("exact", True, "p:")])
def test_every_record_rule_gives_its_reason_record_and_line(tmp_path, monkeypatch, reader, comment, prefix):
    """A plain file is proven by the walk (or, made to, read by the engine alone); a prefixed one with a comment
    only the engine reads, its lines from the lxml locator."""
    proven: list[object] = []
    prove = xmlcanon.prove

    def watched(*args: object, **kwargs: object) -> object:
        proven.append(None if reader == "exact" else prove(*args, **kwargs))
        return proven[-1]

    monkeypatch.setattr(xmlcanon, "prove", watched)
    staged, result = stage(tmp_path, reader, comment=comment, prefix=prefix)
    assert proven and all((proof is not None) == (reader == "canon") for proof in proven)
    found = {row["record"]: (row["reason"], row["detail"]) for row in result.quarantine.rows}
    assert found == {number: (reason, detail) for number, (_, reason, detail) in BROKEN.items()}
    lines = {row["record"]: row["line"] for row in result.quarantine.rows}
    assert lines[5] == 7 and lines[8] == 10 + comment   # line 3 holds record 1; a comment pushes record 7 on
    assert staged["record"].to_pylist() == [1, 13, 14, 15, 16]
    assert staged["line"].to_pylist() == [3] + [line + comment for line in (15, 16, 17, 18)]
    marked = {row["record"] for row in result.quarantine.rows if row["marks_review"]}
    assert marked == {2, 3, 4, 5, 6, 7, 11, 12}  # at an existing address and would have counted
    assert result.records_per_file == {"pmlp/persons.xml": 16}
    keys = {row["record"]: row["person_key"] for row in result.quarantine.rows}
    assert keys[11] == keys[12] == person_key(b"k", "32579461005") and keys[2] is None


def test_names_are_staged_only_as_keys_and_sealed_text(tmp_path):
    staged, _ = stage(tmp_path, "names")
    first = staged.slice(0, 1).to_pylist()[0]
    assert first["name_keys"] == name_keys(b"k", "Jānis", "Bērziņš")
    assert first["person_key"] == person_key(b"k", first["person_code"]) and first["person_code"].startswith("010111")
    assert staged["person_no"].to_pylist() == [int(code) for code in staged["person_code"].to_pylist()]
    assert [Sealer(b"d").open(value) for value in staged["name_sealed"].to_pylist()] == ["Jānis Bērziņš"] * 5
    assert "Bērziņš" not in " ".join(str(value) for value in staged.to_pylist())


@pytest.mark.parametrize("prefix", ["p:", ""])
def test_record_lines_find_prefixed_and_plain_record_tags_as_the_lxml_locator_does(tmp_path, prefix):
    persons_file(tmp_path, comment=False, prefix=prefix)
    path = tmp_path / "persons.xml"
    located = list(located_lines(path, pmlp.LAYOUT, pmlp.LAYOUT.record, None))
    assert list(xmlcolumns.record_lines(path, pmlp.LAYOUT, None)) == located == list(range(3, 19))


def test_the_address_statuses_load_as_the_numpy_route_built_them(tmp_path):
    """Built from Arrow for speed, the statuses every source checks against are the same Series as before: same
    index, values, dtypes, names and missing values (an ARIS row with no status or no code stays as it was)."""
    layout = WorkLayout(tmp_path, "2026-11")
    layout.staged("aris").mkdir(parents=True)
    codes = ["100000001", "100000002", None, "100000004", "100000001"]
    statuses = ["EKS", "DEL", "EKS", None, "EKS"]
    pq.write_table(pa.table({"aris_code": codes, "status": statuses, "other": [1, 2, 3, 4, 5]}),
                   layout.staged("aris") / "part-0000.parquet")
    table = pq.read_table(layout.staged("aris"), columns=["aris_code", "status"]).to_pandas()
    before = pd.Series(table["status"].to_numpy(), index=table["aris_code"].to_numpy())
    pd.testing.assert_series_equal(load_address_status(layout), before, check_exact=True)


def test_a_month_without_quarantine_stages_every_person_with_the_staged_schema_and_encodings(tmp_path):
    """Nobody quarantined: the table is written without the filter's copy, and stays the staged schema; only the
    repeating columns carry a Parquet dictionary, and only the sealed names are stored uncompressed."""
    inbox = tmp_path / "inbox"
    persons_file(inbox / "pmlp", count=1, comment=False)  # record 1 breaks no rule (BROKEN starts at 2)
    settings = Settings(pseudonym_secret=b"k", portal_data_key=b"d", workers=1, data_docs=False, batch_rows=2)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / "clean", "2025-01"), settings, inbox,
                       address_status=pd.Series(["EKS"], index=["100000001"]))
    result = pmlp.stage([inbox / "pmlp" / "persons.xml"], ctx)
    staged = pq.read_table(result.parts[0])
    assert not result.quarantine.rows and staged.schema.equals(pmlp.SCHEMA)
    assert staged["record"].to_pylist() == [1] and staged["line"].to_pylist() == [3]
    assert staged["person_key"].to_pylist() == [person_key(b"k", code) for code in staged["person_code"].to_pylist()]
    chunks = {column.path_in_schema: column for column in
              (pq.ParquetFile(result.parts[0]).metadata.row_group(0).column(i) for i in range(len(pmlp.SCHEMA)))}
    assert {name for name, column in chunks.items() if column.dictionary_page_offset is not None} \
        == set(pmlp.REPEATING)
    assert {name for name, column in chunks.items() if column.compression == "UNCOMPRESSED"} == {"name_sealed"}
