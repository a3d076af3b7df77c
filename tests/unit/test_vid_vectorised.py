"""VID's record checks read fixed-shape texts off Arrow's bytes in numpy; each fast route must give exactly what
the general route (regex, strptime, Python strings) gives, on ordinary and on awkward texts alike."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import textcolumns
from pipeline.config import Settings, WorkLayout
from pipeline.period import parse_month, parse_months
from pipeline.sources import vid, xmlcolumns, xsdstream
from pipeline.sources.base import StageContext
from tests.unit.test_xml_hardening import RECORD, extract

MONTHS = ["2025-01", "1900-01", "1899-12", "9999-12", "2025-00", "2025-13", "2025-1", "2025-011", " 2025-01",
          "2025-01 ", "2025/01", "", "٢٠٢٥-٠١", "２０２５-０１", "2025-0١", "20a5-01", "2025-1a", "0000-01", "1900-10",
          "2899-09", "é025-01"]
TIMES = ["2024-04-15T10:00:00", "2024-02-29T23:59:59", "2025-02-29T10:00:00", "1900-02-29T00:00:00",
         "2000-02-29T00:00:00", "2025-04-31T00:00:00", "2025-05-15T10:00:60", "2025-05-31T23:59:60",
         "2025-05-15T24:00:00", "2025-05-15T10:60:00", "2025-05-00T10:00:00", "2025-00-10T10:00:00",
         "0001-01-01T00:00:00", "9999-12-31T23:59:59", "0000-01-01T00:00:00", "2025-05-15 10:00:00",
         "2025-05-15T10:00:00Z",
         "2025-05-15T10:00:00+02:00", "2025-05-15", "2025-05-15T10:00:00.5", "", "garbage", "2025-05-15T10:00:0١",
         "2025-05-15X10:00:00", "2025-12-31T23:59:59"]


def shuffled(texts: list[str]) -> pa.Array:
    """The texts inside a larger array, sliced, so offsets do not start at zero."""
    return pa.array(["padding", *texts, "tail"]).slice(1, len(texts))


def test_parse_months_is_parse_month_for_every_text():
    valid, index = parse_months(shuffled(MONTHS))
    for text, ok, value in zip(MONTHS, valid, index, strict=True):
        try:
            expected = parse_month(text)
        except ValueError:
            assert not ok and value == 0, text
        else:
            assert ok and value == expected, text


def test_parse_months_when_every_text_has_the_shape_and_when_none_has():
    assert parse_months(pa.array(["2025-01", "2024-12"]))[1].tolist() == [2025 * 12, 2024 * 12 + 11]
    assert parse_months(pa.array(["x", None]))[0].tolist() == [False, False]


def test_timestamps_are_the_exact_route_for_every_text():
    texts = shuffled(TIMES)
    assert vid._timestamps(texts).equals(vid._exact_timestamps(texts))
    assert vid._timestamps(texts)[6].as_py() is not None  # 10:00:60 rolls over as Arrow's strptime always did


@pytest.mark.parametrize("odd", ["0000-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_time_outside_years_1_to_9999_is_a_bad_date_not_a_crash(odd):
    alone = vid._timestamps(pa.array([odd, "2024-04-15T10:00:00"]))
    beside_another_bad_one = vid._timestamps(pa.array([odd, "garbage", "2024-04-15T10:00:00"]))
    assert alone.to_pylist()[0] is None and beside_another_bad_one.to_pylist()[:2] == [None, None]


def test_timestamps_of_ordinary_texts_only_never_take_the_exact_route(monkeypatch):
    texts = pa.array(["2024-04-15T10:00:00", "1999-12-31T23:59:59"])
    expected = vid._exact_timestamps(texts)
    monkeypatch.setattr(vid, "_exact_timestamps", lambda _texts: pytest.fail("took the slow route"))
    assert vid._timestamps(texts).equals(expected)


IDS = ["DDZ-2024-00012345", "D-1", "", "A" * 64, "DDZ 2025 0000000001", "x"]


@pytest.mark.parametrize("ids", [IDS, ["DDZ-2025-0000000001", "DDZ-2025-0000000002"], ["Ā-ž", "D-1", "日本"]])
def test_hash64_from_bytes_equals_the_python_string_route(monkeypatch, ids):
    fast = vid.hash64(shuffled(ids))
    monkeypatch.setattr(textcolumns, "ascii_utf32", lambda _texts, _width: None)
    assert fast.tolist() == vid.hash64(shuffled(ids)).tolist()


def test_hash64_of_a_text_does_not_depend_on_its_batch():
    alone = {text: vid.hash64(pa.array([text]))[0] for text in IDS + ["Ā-ž"]}
    together = vid.hash64(pa.array(IDS + ["Ā-ž"]))
    assert together.tolist() == [alone[text] for text in IDS + ["Ā-ž"]]
    assert len(set(together.tolist())) == len(together)


def test_both_versions_of_a_corrected_document_get_one_hash_across_batches(tmp_path):
    body = (RECORD.format(n=1, amount="1.00") + RECORD.format(n=22222222, amount="2.00")
            + RECORD.format(n=1, amount="3.00") + RECORD.format(n=3, amount="4.00"))
    path = tmp_path / "income.xml"
    path.write_bytes(extract(body))
    settings = Settings(pseudonym_secret=b"k", workers=1, data_docs=False, batch_rows=2)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / "work", "2025-01"), settings, path.parent)
    table = pa.concat_tables([pq.read_table(part) for part in vid.stage([path], ctx).parts]).to_pydict()
    assert table["document_id"] == ["D-1", "D-22222222", "D-1", "D-3"]
    assert table["doc_hash"][0] == table["doc_hash"][2] != table["doc_hash"][3]


def test_fixed_width_rejects_other_lengths_and_nulls():
    fits, matrix = textcolumns.fixed_width(pa.array(["abc", "ab", None, "abcd", "xyz"]), 3)
    assert fits.tolist() == [True, False, False, False, True]
    assert bytes(matrix[0]) == b"abc" and bytes(matrix[4]) == b"xyz"


@pytest.mark.parametrize(("name", "content"), [
    ("ok.xml", extract(RECORD.format(n=1, amount="1.00") * 3)),
    ("cut.xml", extract(RECORD.format(n=1, amount="1.00") * 3)[:-20]),
    ("unknown.xml", extract(RECORD.format(n=1, amount="1.00").replace("<DocumentType>", "<X/><DocumentType>"))),
    ("bytes.xml", extract(RECORD.format(n=1, amount="1.00")).replace(b"D-1", b"D-\xff")),
    ("empty.xml", b""),
])
def test_validating_a_mapped_file_is_validating_its_stream(tmp_path, monkeypatch, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    digest = hashlib.sha256()
    mapped = xsdstream.validate_file(path, vid.LAYOUT.schema_file, digest)
    with path.open("rb", buffering=0) as handle:
        streamed = xsdstream.validate_stream(handle, vid.LAYOUT.schema_file)
    assert mapped == streamed and mapped.valid == (name == "ok.xml")
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    monkeypatch.setattr(xsdstream, "_STATIC_INPUT", "noSuchSymbol")  # a libxml2 without static input buffers
    assert xsdstream.validate_file(path, vid.LAYOUT.schema_file) == streamed


def test_the_columnar_read_hashes_the_whole_file(tmp_path):
    path = tmp_path / "ok.xml"
    path.write_bytes(extract(RECORD.format(n=1, amount="1.00") * 5))
    digest = hashlib.sha256()
    assert sum(batch.rows for batch in xmlcolumns.read_columns(path, vid.COLUMNS, digest=digest)) == 5
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()

